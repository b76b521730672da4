/**
 * Koa adapter for @plat/db-perf (`@plat/db-perf/koa`): a unit of work per request, the bulkhead,
 * `/_db/stats` and the error handler.
 */
import type { RoutesOptions } from '@plat/core';
import { koaErrorHandler, koaMiddleware, koaRoutes } from '@plat/core/koa';
import type { Middleware } from 'koa';
import type { Bulkhead } from './concurrency';
import {
  type BulkheadMiddlewareOptions,
  bulkheadMiddleware,
  type DbStatsRouteOptions,
  type RequestUnitOfWorkOptions,
  requestUnitOfWork,
  dbStatsRoutes as statsRoutes,
} from './http';
import { dbPerfErrorStatus } from './http-status';

const statusOf = dbPerfErrorStatus;

/**
 * Opens a db-perf unit of work per request (N+1 detection, per-request loaders, Server-Timing).
 *
 * @example
 * ```ts
 * app.use(dbUnitOfWork({ serverTiming: true }));
 * ```
 */
export function dbUnitOfWork(options?: RequestUnitOfWorkOptions): Middleware {
  return koaMiddleware(requestUnitOfWork(options), { statusOf });
}

/**
 * Sheds requests beyond the bulkhead's capacity with 503 and `Retry-After`.
 *
 * @example
 * ```ts
 * app.use(dbBulkhead(createBulkhead({ concurrency: 8, maxQueue: 16 })));
 * ```
 */
export function dbBulkhead(bulkhead: Bulkhead, options?: BulkheadMiddlewareOptions): Middleware {
  return koaMiddleware(bulkheadMiddleware(bulkhead, options), { statusOf });
}

/**
 * Serves `GET /_db/stats`; pass `guard` to protect it.
 *
 * @example
 * ```ts
 * app.use(dbStatsRoutes({ perf, bulkheads: [bulkhead], guard: adminOnly }));
 * ```
 */
export function dbStatsRoutes(
  options: DbStatsRouteOptions & Pick<RoutesOptions, 'prefix' | 'guard'>,
): Middleware {
  return koaRoutes(statsRoutes(options), {
    statusOf,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.guard === undefined ? {} : { guard: options.guard }),
  });
}

/** Answers @plat/db-perf errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(dbPerfErrorStatus);

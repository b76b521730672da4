/**
 * Fastify adapter for @plat/db-perf (`@plat/db-perf/fastify`): a unit of work per request, the
 * bulkhead, `/_db/stats` and the error handler.
 */
import type { RoutesOptions } from '@plat/core';
import { fastifyErrorHandler, fastifyPlugin, fastifyRoutes } from '@plat/core/fastify';
import type { FastifyPluginCallback } from 'fastify';
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
 * await app.register(dbUnitOfWork({ serverTiming: true }));
 * ```
 */
export function dbUnitOfWork(options?: RequestUnitOfWorkOptions): FastifyPluginCallback {
  return fastifyPlugin(requestUnitOfWork(options), { statusOf, name: '@plat/db-perf.unitOfWork' });
}

/**
 * Sheds requests beyond the bulkhead's capacity with 503 and `Retry-After`.
 *
 * @example
 * ```ts
 * await app.register(dbBulkhead(createBulkhead({ concurrency: 8, maxQueue: 16 })));
 * ```
 */
export function dbBulkhead(bulkhead: Bulkhead, options?: BulkheadMiddlewareOptions): FastifyPluginCallback {
  return fastifyPlugin(bulkheadMiddleware(bulkhead, options), { statusOf, name: '@plat/db-perf.bulkhead' });
}

/**
 * Registers `GET /_db/stats`; pass `guard` to protect it.
 *
 * @example
 * ```ts
 * await app.register(dbStatsRoutes({ perf, bulkheads: [bulkhead], guard: adminOnly }));
 * ```
 */
export function dbStatsRoutes(
  options: DbStatsRouteOptions & Pick<RoutesOptions, 'prefix' | 'guard'>,
): FastifyPluginCallback {
  return fastifyRoutes(statsRoutes(options), {
    statusOf,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.guard === undefined ? {} : { guard: options.guard }),
  });
}

/** Answers @plat/db-perf errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(dbPerfErrorStatus);

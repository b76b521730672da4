/** Koa adapter for @plat/cache-warm (`@plat/cache-warm/koa`): the admin endpoint and the error handler. */
import { koaErrorHandler, koaRoutes } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { warmAdminRoutes as adminRoutes, type WarmAdminOptions } from './admin-routes';
import { cacheWarmErrorStatus } from './http-status';

export type { WarmAdminOptions } from './admin-routes';

/**
 * Serves `GET /_warm` (warmers and their last runs) and `POST /_warm/:name/run`, behind `guard`.
 *
 * @example
 * ```ts
 * app.use(warmAdminRoutes({ warmer, guard: adminOnly }));
 * ```
 */
export function warmAdminRoutes(options: WarmAdminOptions): Middleware {
  return koaRoutes(adminRoutes(options), {
    statusOf: cacheWarmErrorStatus,
    guard: options.guard,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
  });
}

/** Answers @plat/cache-warm errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(cacheWarmErrorStatus);

/** Express adapter for @plat/cache-warm (`@plat/cache-warm/express`): the admin endpoint and the error handler. */
import { expressErrorHandler, expressRoutes } from '@plat/core/express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { warmAdminRoutes as adminRoutes, type WarmAdminOptions } from './admin-routes';
import { cacheWarmErrorStatus } from './http-status';

export type { WarmAdminOptions } from './admin-routes';

/**
 * Serves `GET /_warm` (warmers and their last runs) and `POST /_warm/:name/run`, behind `guard`.
 *
 * @example
 * ```ts
 * app.use(warmAdminRoutes({ warmer, guard: (ex) => (ex.header('x-admin') === token ? undefined : { status: 403 }) }));
 * ```
 */
export function warmAdminRoutes(options: WarmAdminOptions): RequestHandler {
  return expressRoutes(adminRoutes(options), {
    statusOf: cacheWarmErrorStatus,
    guard: options.guard,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
  });
}

/** Answers @plat/cache-warm errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(cacheWarmErrorStatus);

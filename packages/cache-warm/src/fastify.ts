/** Fastify adapter for @plat/cache-warm (`@plat/cache-warm/fastify`): the admin endpoint and the error handler. */
import { fastifyErrorHandler, fastifyRoutes } from '@plat/core/fastify';
import type { FastifyPluginCallback } from 'fastify';
import { warmAdminRoutes as adminRoutes, type WarmAdminOptions } from './admin-routes';
import { cacheWarmErrorStatus } from './http-status';

export type { WarmAdminOptions } from './admin-routes';

/**
 * Registers `GET /_warm` (warmers and their last runs) and `POST /_warm/:name/run`, behind `guard`.
 *
 * @example
 * ```ts
 * await app.register(warmAdminRoutes({ warmer, guard: adminOnly }));
 * ```
 */
export function warmAdminRoutes(options: WarmAdminOptions): FastifyPluginCallback {
  return fastifyRoutes(adminRoutes(options), {
    statusOf: cacheWarmErrorStatus,
    guard: options.guard,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
  });
}

/** Answers @plat/cache-warm errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(cacheWarmErrorStatus);

/** Fastify adapter for @plat/health: the probes as a plugin, and shutdown wired to `app.close()`. */
import { fastifyErrorHandler, fastifyRoutes } from '@plat/core/fastify';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import type { Health } from './health';
import { healthErrorStatus } from './http-status';
import { healthRoutes } from './routes';
import type { HealthRoutesOptions } from './types';

/**
 * A plugin serving `/health/live`, `/health/ready` and `/health/startup` (paths configurable).
 *
 * @example
 * ```ts
 * await app.register(healthProbes(health));
 * ```
 */
export function healthProbes(health: Health, options: HealthRoutesOptions = {}): FastifyPluginCallback {
  return fastifyRoutes(healthRoutes(health, options), { statusOf: healthErrorStatus });
}

/**
 * Wires graceful shutdown to the app: requests on `app.server` are tracked and drained, the server
 * stops accepting through `app.close()` (so your `onClose` hooks run), and SIGTERM / SIGINT start
 * the shutdown. Returns a function that detaches it.
 *
 * @example
 * ```ts
 * gracefulShutdown(health, app);
 * await app.listen({ port: 3000 });
 * ```
 */
export function gracefulShutdown(health: Health, app: FastifyInstance): () => void {
  return health.attach(app.server, { close: () => app.close() });
}

/** Answers @plat/health errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(healthErrorStatus);

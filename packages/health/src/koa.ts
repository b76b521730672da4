/** Koa adapter for @plat/health: the probes as one middleware, and shutdown wired to the server. */
import type { Server } from 'node:http';
import { koaErrorHandler, koaRoutes } from '@plat/core/koa';
import type { Middleware } from 'koa';
import type { Health } from './health';
import { healthErrorStatus } from './http-status';
import { healthRoutes } from './routes';
import type { HealthRoutesOptions } from './types';

/**
 * Serves `/health/live`, `/health/ready` and `/health/startup` (paths configurable); other requests pass on.
 *
 * @example
 * ```ts
 * app.use(healthProbes(health));
 * ```
 */
export function healthProbes(health: Health, options: HealthRoutesOptions = {}): Middleware {
  return koaRoutes(healthRoutes(health, options), { statusOf: healthErrorStatus });
}

/**
 * Wires graceful shutdown to the server `app.listen()` returned: its requests are tracked and
 * drained, and SIGTERM / SIGINT start the shutdown. Returns a function that detaches it.
 *
 * @example
 * ```ts
 * const server = app.listen(3000);
 * gracefulShutdown(health, server);
 * ```
 */
export function gracefulShutdown(health: Health, server: Server): () => void {
  return health.attach(server);
}

/** Answers @plat/health errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(healthErrorStatus);

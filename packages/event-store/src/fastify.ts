/** Fastify adapter for @plat/event-store: the read-only history routes and the error handler. */
import { fastifyErrorHandler, fastifyRoutes } from '@plat/core/fastify';
import type { FastifyPluginCallback } from 'fastify';
import { eventStoreErrorStatus } from './http-status';
import { eventStoreRoutes } from './routes';
import type { EventStore } from './store';
import type { EventStoreRouterOptions } from './types';

/**
 * The read-only history routes (`GET /streams/:id`, `/streams/:id/state`, `/audit`, `/log`) behind
 * your guard, as a Fastify plugin.
 *
 * @example
 * ```ts
 * await app.register(eventStoreRouter(store, { prefix: '/debug/events', guard: adminOnly, aggregates: { cart } }));
 * ```
 */
export function eventStoreRouter<DB>(
  store: EventStore<DB>,
  options: EventStoreRouterOptions,
): FastifyPluginCallback {
  const { guard, prefix, ...routes } = options;
  return fastifyRoutes(eventStoreRoutes(store, routes), {
    guard,
    statusOf: eventStoreErrorStatus,
    ...(prefix === undefined ? {} : { prefix }),
  });
}

/** Answers @plat/event-store errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(eventStoreErrorStatus);

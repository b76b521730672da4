/** Express adapter for @plat/event-store: the read-only history router and the error handler. */
import { expressErrorHandler, expressRoutes } from '@plat/core/express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { eventStoreErrorStatus } from './http-status';
import { eventStoreRoutes } from './routes';
import type { EventStore } from './store';
import type { EventStoreRouterOptions } from './types';

/**
 * The read-only history router (`GET /streams/:id`, `/streams/:id/state`, `/audit`, `/log`) behind
 * your guard.
 *
 * @example
 * ```ts
 * app.use(eventStoreRouter(store, { prefix: '/debug/events', guard: adminOnly, aggregates: { cart } }));
 * ```
 */
export function eventStoreRouter<DB>(
  store: EventStore<DB>,
  options: EventStoreRouterOptions,
): RequestHandler {
  const { guard, prefix, ...routes } = options;
  return expressRoutes(eventStoreRoutes(store, routes), {
    guard,
    statusOf: eventStoreErrorStatus,
    ...(prefix === undefined ? {} : { prefix }),
  });
}

/** Answers @plat/event-store errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(eventStoreErrorStatus);

/** Koa adapter for @plat/event-store: the read-only history router and the error handler. */
import { koaErrorHandler, koaRoutes } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { eventStoreErrorStatus } from './http-status';
import { eventStoreRoutes } from './routes';
import type { EventStore } from './store';
import type { EventStoreRouterOptions } from './types';

/**
 * The read-only history router (`GET /streams/:id`, `/streams/:id/state`, `/audit`, `/log`) behind
 * your guard, as one Koa middleware; other paths pass through.
 *
 * @example
 * ```ts
 * app.use(eventStoreRouter(store, { prefix: '/debug/events', guard: adminOnly, aggregates: { cart } }));
 * ```
 */
export function eventStoreRouter<DB>(store: EventStore<DB>, options: EventStoreRouterOptions): Middleware {
  const { guard, prefix, ...routes } = options;
  return koaRoutes(eventStoreRoutes(store, routes), {
    guard,
    statusOf: eventStoreErrorStatus,
    ...(prefix === undefined ? {} : { prefix }),
  });
}

/** Answers @plat/event-store errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(eventStoreErrorStatus);

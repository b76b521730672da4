/** Koa adapter for @plat/event-store. */
import { koaErrorHandler } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { eventStoreErrorStatus } from './http-status';

/** Answers @plat/event-store errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(eventStoreErrorStatus);

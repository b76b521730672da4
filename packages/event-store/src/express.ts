/** Express adapter for @plat/event-store. */
import { expressErrorHandler } from '@plat/core/express';
import type { ErrorRequestHandler } from 'express';
import { eventStoreErrorStatus } from './http-status';

/** Answers @plat/event-store errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(eventStoreErrorStatus);

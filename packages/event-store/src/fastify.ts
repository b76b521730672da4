/** Fastify adapter for @plat/event-store. */
import { fastifyErrorHandler } from '@plat/core/fastify';
import { eventStoreErrorStatus } from './http-status';

/** Answers @plat/event-store errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(eventStoreErrorStatus);

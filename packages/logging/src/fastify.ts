/** Fastify adapter for @plat/logging. */
import { fastifyErrorHandler } from '@plat/core/fastify';
import { loggingErrorStatus } from './http-status';

/** Answers @plat/logging errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(loggingErrorStatus);

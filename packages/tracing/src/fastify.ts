/** Fastify adapter for @plat/tracing. */
import { fastifyErrorHandler } from '@plat/core/fastify';
import { tracingErrorStatus } from './http-status';

/** Answers @plat/tracing errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(tracingErrorStatus);

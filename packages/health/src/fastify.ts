/** Fastify adapter for @plat/health. */
import { fastifyErrorHandler } from '@plat/core/fastify';
import { healthErrorStatus } from './http-status';

/** Answers @plat/health errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(healthErrorStatus);

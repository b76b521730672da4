/** Fastify adapter for @plat/cache-deps. */
import { fastifyErrorHandler } from '@plat/core/fastify';
import { cacheErrorStatus } from './http-status';

/** Answers @plat/cache-deps errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(cacheErrorStatus);

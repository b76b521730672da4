/** Fastify adapter for @plat/cache-warm. */
import { fastifyErrorHandler } from '@plat/core/fastify';
import { cacheWarmErrorStatus } from './http-status';

/** Answers @plat/cache-warm errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(cacheWarmErrorStatus);

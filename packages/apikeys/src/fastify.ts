/** Fastify adapter for @plat/apikeys. */
import { fastifyErrorHandler } from '@plat/core/fastify';
import { apiKeyErrorStatus } from './http-status';

/** Answers @plat/apikeys errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(apiKeyErrorStatus);

/** Fastify adapter for @plat/input-guard. */
import { fastifyErrorHandler } from '@plat/core/fastify';
import { inputGuardErrorStatus } from './http-status';

/** Answers @plat/input-guard errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(inputGuardErrorStatus);

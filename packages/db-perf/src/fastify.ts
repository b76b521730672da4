/** Fastify adapter for @plat/db-perf. */
import { fastifyErrorHandler } from '@plat/core/fastify';
import { dbPerfErrorStatus } from './http-status';

/** Answers @plat/db-perf errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(dbPerfErrorStatus);

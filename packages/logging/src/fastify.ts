/** Fastify adapter for @plat/logging. */
import { fastifyErrorHandler, fastifyPlugin } from '@plat/core/fastify';
import type { FastifyPluginCallback } from 'fastify';
import { loggingErrorStatus } from './http-status';
import { requestLogger } from './request-logger';
import type { RequestLoggingOptions } from './types';

/**
 * An app-wide plugin that opens the request context (request id from `x-request-id` or a new one),
 * echoes the request id, and logs one line per request when the response is done.
 *
 * @example
 * ```ts
 * await app.register(requestLogging({ logger, skip: (ex) => ex.path === '/healthz' }));
 * ```
 */
export function requestLogging(options: RequestLoggingOptions): FastifyPluginCallback {
  return fastifyPlugin(requestLogger(options), { statusOf: loggingErrorStatus, name: '@plat/logging' });
}

/** Answers @plat/logging errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(loggingErrorStatus);

/** Express adapter for @plat/logging. */
import { expressErrorHandler, expressMiddleware } from '@plat/core/express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { loggingErrorStatus } from './http-status';
import { requestLogger } from './request-logger';
import type { RequestLoggingOptions } from './types';

/**
 * Opens the request context (request id from `x-request-id` or a new one), echoes the request id,
 * and logs one line per request when the response is done. Mount it first.
 *
 * @example
 * ```ts
 * app.use(requestLogging({ logger, skip: (ex) => ex.path === '/healthz' }));
 * ```
 */
export function requestLogging(options: RequestLoggingOptions): RequestHandler {
  return expressMiddleware(requestLogger(options), { statusOf: loggingErrorStatus });
}

/** Answers @plat/logging errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(loggingErrorStatus);

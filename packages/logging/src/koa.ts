/** Koa adapter for @plat/logging. */
import { koaErrorHandler, koaMiddleware } from '@plat/core/koa';
import type { Middleware } from 'koa';
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
export function requestLogging(options: RequestLoggingOptions): Middleware {
  return koaMiddleware(requestLogger(options), { statusOf: loggingErrorStatus });
}

/** Answers @plat/logging errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(loggingErrorStatus);

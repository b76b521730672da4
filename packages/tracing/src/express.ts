/** Express adapter for @plat/tracing. */
import { expressErrorHandler, expressExchange, expressMiddleware } from '@plat/core/express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { tracingErrorStatus } from './http-status';
import { createRequestTracing, recordRequestError } from './request-tracing';
import type { RequestTracingOptions } from './types';

/**
 * Express middleware tracing every request as one server span named by its route template; mount it
 * first. It also opens the @plat request context.
 *
 * @example
 * ```ts
 * app.use(traceRequests({ responseHeader: 'traceresponse' }));
 * app.get('/workflows/:id', handler);
 * app.use(traceErrors());
 * ```
 */
export function traceRequests(options: RequestTracingOptions = {}): RequestHandler {
  return expressMiddleware(createRequestTracing(options), { statusOf: tracingErrorStatus });
}

/**
 * Express error middleware recording errors passed to `next(err)` (or thrown by Express 5 handlers)
 * on the request's server span, then passing them on. Mount it after your routes.
 *
 * @example
 * ```ts
 * app.use(traceErrors());
 * ```
 */
export function traceErrors(): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    recordRequestError(req, error, expressExchange(req, res).route());
    next(error);
  };
}

/** Answers @plat/tracing errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(tracingErrorStatus);

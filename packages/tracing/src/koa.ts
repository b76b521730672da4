/** Koa adapter for @plat/tracing. */
import { koaErrorHandler, koaMiddleware } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { tracingErrorStatus } from './http-status';
import { createRequestTracing, recordRequestError } from './request-tracing';
import type { RequestTracingOptions } from './types';

/**
 * Koa middleware tracing every request as one server span named by its route template (from
 * @koa/router), recording errors thrown downstream on it. Mount it first. It also opens the @plat
 * request context.
 *
 * @example
 * ```ts
 * app.use(traceRequests());
 * app.use(router.routes());
 * ```
 */
export function traceRequests(options: RequestTracingOptions = {}): Middleware {
  const middleware = koaMiddleware(createRequestTracing(options), { statusOf: tracingErrorStatus });
  return (ctx, next) =>
    middleware(ctx, next).catch((error: unknown) => {
      recordRequestError(ctx.req, error);
      throw error;
    });
}

/** Answers @plat/tracing errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(tracingErrorStatus);

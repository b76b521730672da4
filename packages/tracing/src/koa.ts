/** Koa adapter for @plat/tracing. */
import { koaErrorHandler } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { tracingErrorStatus } from './http-status';

/** Answers @plat/tracing errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(tracingErrorStatus);

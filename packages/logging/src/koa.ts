/** Koa adapter for @plat/logging. */
import { koaErrorHandler } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { loggingErrorStatus } from './http-status';

/** Answers @plat/logging errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(loggingErrorStatus);

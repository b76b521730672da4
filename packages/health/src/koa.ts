/** Koa adapter for @plat/health. */
import { koaErrorHandler } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { healthErrorStatus } from './http-status';

/** Answers @plat/health errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(healthErrorStatus);

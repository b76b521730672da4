/** Koa adapter for @plat/cache-warm. */
import { koaErrorHandler } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { cacheWarmErrorStatus } from './http-status';

/** Answers @plat/cache-warm errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(cacheWarmErrorStatus);

/** Koa adapter for @plat/cache-deps. */
import { koaErrorHandler } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { cacheErrorStatus } from './http-status';

/** Answers @plat/cache-deps errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(cacheErrorStatus);

/** Koa adapter for @plat/cache-deps. */
import { koaErrorHandler, koaMiddleware } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { cacheErrorStatus } from './http-status';
import { createResponseCache } from './response-cache';
import type { Cache, ResponseCacheOptions } from './types';

/** Answers @plat/cache-deps errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(cacheErrorStatus);

/**
 * Caches GET responses in `cache` (see `createResponseCache`): app-wide, or per route with @koa/router.
 *
 * @example
 * ```ts
 * router.get('/users/:id', responseCache(cache, { dependsOn: (ex) => [`user:${ex.params.id}`] }), handler);
 * ```
 */
export function responseCache(cache: Cache, options: ResponseCacheOptions = {}): Middleware {
  return koaMiddleware(createResponseCache(cache, options), { statusOf: cacheErrorStatus });
}

export { responseDependsOn } from './response-cache';

/** Fastify adapter for @plat/cache-deps. */
import { fastifyErrorHandler, fastifyHook, fastifyPlugin } from '@plat/core/fastify';
import { cacheErrorStatus } from './http-status';
import { createResponseCache } from './response-cache';
import type { Cache, ResponseCacheOptions } from './types';

/** Answers @plat/cache-deps errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(cacheErrorStatus);

/**
 * Caches GET responses of every route in `cache` (an app-wide plugin); see `createResponseCache`.
 *
 * @example
 * ```ts
 * await app.register(responseCache(cache, { key: (ex) => `page:${ex.url}` }));
 * ```
 */
export function responseCache(cache: Cache, options: ResponseCacheOptions = {}) {
  return fastifyPlugin(createResponseCache(cache, options), {
    statusOf: cacheErrorStatus,
    name: '@plat/cache-deps.responseCache',
  });
}

/**
 * The same for one route, as its `onRequest` hook (route parameters are known by then).
 *
 * @example
 * ```ts
 * app.get('/users/:id', { onRequest: responseCacheHook(cache, { dependsOn: (ex) => [`user:${ex.params.id}`] }) }, handler);
 * ```
 */
export function responseCacheHook(cache: Cache, options: ResponseCacheOptions = {}) {
  return fastifyHook(createResponseCache(cache, options), { statusOf: cacheErrorStatus });
}

export { responseDependsOn } from './response-cache';

/** Express adapter for @plat/cache-deps. */
import { expressErrorHandler, expressMiddleware } from '@plat/core/express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { cacheErrorStatus } from './http-status';
import { createResponseCache } from './response-cache';
import type { Cache, ResponseCacheOptions } from './types';

/** Answers @plat/cache-deps errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(cacheErrorStatus);

/**
 * Caches GET responses in `cache` (see `createResponseCache`): per route or app-wide.
 *
 * @example
 * ```ts
 * app.get('/users/:id', responseCache(cache, { dependsOn: (ex) => [`user:${ex.params.id}`] }), handler);
 * ```
 */
export function responseCache(cache: Cache, options: ResponseCacheOptions = {}): RequestHandler {
  return expressMiddleware(createResponseCache(cache, options), { statusOf: cacheErrorStatus });
}

export { responseDependsOn } from './response-cache';

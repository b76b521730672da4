/** Koa adapter for @plat/apikeys. */
import { koaErrorHandler, koaMiddleware, koaRoutes } from '@plat/core/koa';
import type { Middleware } from 'koa';
import { apiKeyErrorStatus } from './http-status';
import { apiKeyMiddleware } from './middleware';
import { apiKeyRoutes } from './routes';
import type { ApiKeyManager, ApiKeyRoutesOptions, RequireApiKeyOptions } from './types';

/**
 * Koa middleware that requires a valid API key (with `scopes`) and puts its owner into the request
 * context as the principal; answers 401 / 403 / 429 as problem+json.
 *
 * @example
 * ```ts
 * router.get('/workflows', requireApiKey(keys, { scopes: ['workflows:read'] }), listWorkflows);
 * ```
 */
export function requireApiKey(manager: ApiKeyManager, options: RequireApiKeyOptions = {}): Middleware {
  return koaMiddleware(apiKeyMiddleware(manager, options), { statusOf: apiKeyErrorStatus });
}

/**
 * The key management REST routes (`/api-keys`...), guarded by an admin scope.
 *
 * @example
 * ```ts
 * app.use(apiKeyRouter(keys));
 * ```
 */
export function apiKeyRouter(manager: ApiKeyManager, options: ApiKeyRoutesOptions = {}): Middleware {
  const { routes, guard, prefix } = apiKeyRoutes(manager, options);
  return koaRoutes(routes, { guard, prefix, statusOf: apiKeyErrorStatus });
}

/** Answers @plat/apikeys errors thrown by handlers as problem+json with the right status. */
export const errorHandler: Middleware = koaErrorHandler(apiKeyErrorStatus);

/** Express adapter for @plat/apikeys. */
import { expressErrorHandler, expressMiddleware, expressRoutes } from '@plat/core/express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { apiKeyErrorStatus } from './http-status';
import { apiKeyMiddleware } from './middleware';
import { apiKeyRoutes } from './routes';
import type { ApiKeyManager, ApiKeyRoutesOptions, RequireApiKeyOptions } from './types';

/**
 * Express middleware that requires a valid API key (with `scopes`) and puts its owner into the
 * request context as the principal; answers 401 / 403 / 429 as problem+json.
 *
 * @example
 * ```ts
 * app.get('/workflows', requireApiKey(keys, { scopes: ['workflows:read'] }), listWorkflows);
 * ```
 */
export function requireApiKey(manager: ApiKeyManager, options: RequireApiKeyOptions = {}): RequestHandler {
  return expressMiddleware(apiKeyMiddleware(manager, options), { statusOf: apiKeyErrorStatus });
}

/**
 * The key management REST routes (`/api-keys`...), guarded by an admin scope.
 *
 * @example
 * ```ts
 * app.use(apiKeyRouter(keys, { adminScope: 'api-keys:admin' }));
 * ```
 */
export function apiKeyRouter(manager: ApiKeyManager, options: ApiKeyRoutesOptions = {}): RequestHandler {
  const { routes, guard, prefix } = apiKeyRoutes(manager, options);
  return expressRoutes(routes, { guard, prefix, statusOf: apiKeyErrorStatus });
}

/** Answers @plat/apikeys errors thrown by handlers as problem+json with the right status. */
export const errorHandler: ErrorRequestHandler = expressErrorHandler(apiKeyErrorStatus);

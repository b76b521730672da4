/** Fastify adapter for @plat/apikeys. */
import { fastifyErrorHandler, fastifyHook, fastifyPlugin, fastifyRoutes } from '@plat/core/fastify';
import type { FastifyPluginCallback } from 'fastify';
import { apiKeyErrorStatus } from './http-status';
import { apiKeyMiddleware } from './middleware';
import { apiKeyRoutes } from './routes';
import type { ApiKeyManager, ApiKeyRoutesOptions, RequireApiKeyOptions } from './types';

/**
 * A Fastify hook requiring a valid API key, for a route's `onRequest` (or `preHandler`) option.
 *
 * @example
 * ```ts
 * app.get('/workflows', { onRequest: requireApiKey(keys, { scopes: ['workflows:read'] }) }, handler);
 * ```
 */
export function requireApiKey(
  manager: ApiKeyManager,
  options: RequireApiKeyOptions = {},
): ReturnType<typeof fastifyHook> {
  return fastifyHook(apiKeyMiddleware(manager, options), { statusOf: apiKeyErrorStatus });
}

/**
 * An app-wide plugin requiring a valid API key on every request (use `skip` for public routes).
 *
 * @example
 * ```ts
 * await app.register(apiKeyPlugin(keys, { skip: (ex) => ex.path === '/health' }));
 * ```
 */
export function apiKeyPlugin(
  manager: ApiKeyManager,
  options: RequireApiKeyOptions = {},
): FastifyPluginCallback {
  return fastifyPlugin(apiKeyMiddleware(manager, options), {
    statusOf: apiKeyErrorStatus,
    name: '@plat/apikeys',
  });
}

/**
 * The key management REST routes (`/api-keys`...), guarded by an admin scope.
 *
 * @example
 * ```ts
 * await app.register(apiKeyRouter(keys));
 * ```
 */
export function apiKeyRouter(
  manager: ApiKeyManager,
  options: ApiKeyRoutesOptions = {},
): FastifyPluginCallback {
  const { routes, guard, prefix } = apiKeyRoutes(manager, options);
  return fastifyRoutes(routes, { guard, prefix, statusOf: apiKeyErrorStatus });
}

/** Answers @plat/apikeys errors thrown by handlers as problem+json with the right status. */
export const errorHandler = fastifyErrorHandler(apiKeyErrorStatus);

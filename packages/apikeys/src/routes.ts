/**
 * The key management REST API, written once as PlatRoutes and mounted by each adapter's
 * `apiKeyRouter` behind an admin guard:
 *
 *   POST   /api-keys                 create (201, the full key in the body, once)
 *   GET    /api-keys?ownerId=…       list an owner's keys
 *   GET    /api-keys/:id             one key
 *   POST   /api-keys/:id/rotate      rotate with grace (201, the new full key)
 *   DELETE /api-keys/:id?reason=…    revoke
 *   POST   /api-keys/:id/disable     disable; /enable re-enables
 *   GET    /api-keys/:id/audit       the audit trail
 */
import type { HttpExchange, HttpReply, PlatMiddleware, PlatRoute } from '@plat/core';
import { ApiKeyError } from './errors';
import * as input from './input';
import { isKeyId } from './key-format';
import { apiKeyMiddleware } from './middleware';
import type {
  ApiKeyManager,
  ApiKeyRoutesOptions,
  CreateApiKeyInput,
  KeyChangeOptions,
  RotateApiKeyOptions,
} from './types';

/** Routes plus the guard that protects them, for the bridges' `RoutesOptions`. */
export interface ApiKeyRouteSet {
  readonly routes: readonly PlatRoute[];
  readonly guard: PlatMiddleware;
  readonly prefix: string;
}

const NO_STORE = { 'cache-control': 'no-store' } as const;

function json(status: number, body: unknown): HttpReply {
  return { status, headers: NO_STORE, body };
}

function keyIdParam(exchange: HttpExchange): string {
  const id = exchange.params.id;
  if (!isKeyId(id)) {
    throw new ApiKeyError('INVALID_INPUT', 'The key id in the path must be 12 base62 characters', {
      details: { field: 'id' },
    });
  }
  return id;
}

function queryString(exchange: HttpExchange, name: string): string | undefined {
  const value = exchange.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new ApiKeyError('INVALID_INPUT', `Query parameter ${name} must appear once`, {
      details: { field: name },
    });
  }
  return value;
}

/**
 * The REST routes and their admin guard, framework-neutral. The adapters' `apiKeyRouter()` mounts them.
 *
 * @example
 * ```ts
 * const { routes, guard } = apiKeyRoutes(keys, { adminScope: 'api-keys:admin' });
 * app.use(expressRoutes(routes, { guard, statusOf: apiKeyErrorStatus }));
 * ```
 */
export function apiKeyRoutes(manager: ApiKeyManager, options: ApiKeyRoutesOptions = {}): ApiKeyRouteSet {
  const adminScope = options.adminScope ?? 'api-keys:admin';
  input.scopes([adminScope], 'adminScope');
  const guard = options.guard ?? apiKeyMiddleware(manager, { scopes: [adminScope] });
  const routes: PlatRoute[] = [
    {
      method: 'POST',
      path: '/api-keys',
      handler: async (exchange) => {
        const body = input.body(await exchange.readBody(), [
          'ownerId',
          'name',
          'scopes',
          'expiresInDays',
          'metadata',
          'rateLimit',
          'quota',
        ]);
        // The manager checks every field's type and range; unknown fields were rejected above.
        const created = await manager.create(body as unknown as CreateApiKeyInput);
        return json(201, created);
      },
    },
    {
      method: 'GET',
      path: '/api-keys',
      handler: async (exchange) => {
        const ownerId = queryString(exchange, 'ownerId');
        if (ownerId === undefined) {
          throw new ApiKeyError('INVALID_INPUT', 'Query parameter ownerId is required', {
            details: { field: 'ownerId' },
          });
        }
        const limitText = queryString(exchange, 'limit');
        const limit = limitText === undefined ? undefined : Number(limitText);
        const keys = await manager.list(ownerId, {
          includeInactive: queryString(exchange, 'includeInactive') === 'true',
          ...(limit === undefined ? {} : { limit }),
        });
        return json(200, { items: keys });
      },
    },
    {
      method: 'GET',
      path: '/api-keys/:id',
      handler: async (exchange) => {
        const keyId = keyIdParam(exchange);
        const info = await manager.get(keyId);
        if (info === undefined) throw new ApiKeyError('KEY_NOT_FOUND', `No API key with id ${keyId}`);
        return json(200, info);
      },
    },
    {
      method: 'GET',
      path: '/api-keys/:id/audit',
      handler: async (exchange) => json(200, { items: await manager.auditTrail(keyIdParam(exchange)) }),
    },
    {
      method: 'POST',
      path: '/api-keys/:id/rotate',
      handler: async (exchange) => {
        const keyId = keyIdParam(exchange);
        const body = input.body(await exchange.readBody(), ['graceSeconds', 'expiresInDays']);
        const created = await manager.rotate(keyId, body as RotateApiKeyOptions);
        return json(201, created);
      },
    },
    {
      method: 'DELETE',
      path: '/api-keys/:id',
      handler: async (exchange) => {
        const keyId = keyIdParam(exchange);
        return json(200, await manager.revoke(keyId, queryString(exchange, 'reason')));
      },
    },
    {
      method: 'POST',
      path: '/api-keys/:id/disable',
      handler: async (exchange) => {
        const keyId = keyIdParam(exchange);
        const body = input.body(await exchange.readBody(), ['reason']);
        return json(200, await manager.disable(keyId, body as KeyChangeOptions));
      },
    },
    {
      method: 'POST',
      path: '/api-keys/:id/enable',
      handler: async (exchange) => {
        const keyId = keyIdParam(exchange);
        const body = input.body(await exchange.readBody(), ['reason']);
        return json(200, await manager.enable(keyId, body as KeyChangeOptions));
      },
    },
  ];
  return { routes, guard, prefix: options.prefix ?? '' };
}

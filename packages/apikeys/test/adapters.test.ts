import { currentContext } from '@plat/core';
import { describeErrorHandlers, frameworks, type RunningApp } from '@plat/testkit';
import {
  ApiKeyError,
  type ApiKeyManager,
  type ApiKeyStore,
  createApiKeyManager,
  createSqliteKeyStore,
  currentApiKey,
  formatApiKey,
  parseApiKey,
} from '../src';
import * as onExpress from '../src/express';
import * as onFastify from '../src/fastify';
import * as onKoa from '../src/koa';
import { DAY, manualClock, PEPPER } from './helpers';

describeErrorHandlers(
  '@plat/apikeys',
  { express: onExpress.errorHandler, fastify: onFastify.errorHandler, koa: onKoa.errorHandler },
  () => new ApiKeyError('KEY_NOT_FOUND', 'No API key with id AAAAAAAAAAAA'),
  404,
);

const whoAmI = () => {
  const principal = currentContext()?.principal;
  return { principal, key: currentApiKey()?.name ?? null };
};

describe.each(frameworks)('@plat/apikeys on $name', (fw) => {
  let app: RunningApp;
  let store: ApiKeyStore;
  let keys: ApiKeyManager;
  const clock = manualClock(Date.now());
  let admin: string;
  let reader: string;

  beforeAll(async () => {
    store = createSqliteKeyStore({ filename: ':memory:' });
    keys = createApiKeyManager({ store, peppers: [PEPPER], clock: clock.now });
    admin = (await keys.create({ ownerId: 'ops', name: 'admin', scopes: ['api-keys:admin'] })).key;
    reader = (
      await keys.create({
        ownerId: 'user-1',
        name: 'reader',
        scopes: ['workflows:read'],
        metadata: { tenant: 't1' },
      })
    ).key;
    const read = {
      scopes: ['workflows:read'],
      tenantOf: (k: { metadata: Record<string, unknown> }) => k.metadata.tenant as string,
    };
    app = await fw.start({
      express(server) {
        server.get('/workflows', onExpress.requireApiKey(keys, read), (_req, res) => {
          res.json(whoAmI());
        });
        server.get('/public', onExpress.requireApiKey(keys, { optional: true }), (_req, res) => {
          res.json(whoAmI());
        });
        server.use(onExpress.apiKeyRouter(keys));
        server.use(onExpress.errorHandler);
      },
      async fastify(server) {
        server.setErrorHandler(onFastify.errorHandler);
        server.get('/workflows', { preHandler: onFastify.requireApiKey(keys, read) }, async () => whoAmI());
        server.get('/public', { preHandler: onFastify.requireApiKey(keys, { optional: true }) }, async () =>
          whoAmI(),
        );
        await server.register(onFastify.apiKeyRouter(keys));
      },
      koa(server, router) {
        server.use(onKoa.errorHandler);
        server.use(onKoa.apiKeyRouter(keys));
        router.get('/workflows', onKoa.requireApiKey(keys, read), (ctx) => {
          ctx.body = whoAmI();
        });
        router.get('/public', onKoa.requireApiKey(keys, { optional: true }), (ctx) => {
          ctx.body = whoAmI();
        });
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await keys.close();
    await store.close();
  });

  const call = (
    path: string,
    init: { key?: string; header?: string; method?: string; body?: unknown } = {},
  ) => {
    const headers: Record<string, string> = {};
    if (init.key !== undefined)
      headers[init.header ?? 'authorization'] = init.header === undefined ? `Bearer ${init.key}` : init.key;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${app.url}${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  };
  const problem = async (res: Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status, code });
    return body;
  };

  it('puts the key’s owner into the request context', async () => {
    for (const init of [{ key: reader }, { key: reader, header: 'x-api-key' }]) {
      const res = await call('/workflows', init);
      expect(res.status).toBe(200);
      const { keyId } = parseApiKey(reader)!;
      expect(await res.json()).toEqual({
        principal: {
          id: 'user-1',
          kind: 'api-key',
          scopes: ['workflows:read'],
          credentialId: keyId,
          tenantId: 't1',
        },
        key: 'reader',
      });
    }
  });

  it('answers a missing, malformed or unknown key with 401 problem+json', async () => {
    const missing = await call('/workflows');
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    await problem(missing, 401, 'MISSING_KEY');
    await problem(await call('/workflows', { key: 'not-a-key' }), 401, 'MALFORMED');
    await problem(await call('/workflows', { key: `${reader.slice(0, -6)}AAAAAA` }), 401, 'MALFORMED');
    const { secret } = parseApiKey(reader)!;
    await problem(
      await call('/workflows', { key: formatApiKey('plat_live', 'AAAAAAAAAAAA', secret) }),
      401,
      'NOT_FOUND',
    );
    // Basic credentials are not ours: still no key.
    const basic = await fetch(`${app.url}/workflows`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    await problem(basic, 401, 'MISSING_KEY');
  });

  it('answers a key without the scope with 403', async () => {
    const other = (await keys.create({ ownerId: 'user-2', name: 'writer', scopes: ['workflows:write'] })).key;
    const res = await call('/workflows', { key: other });
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    const body = await problem(res, 403, 'INSUFFICIENT_SCOPE');
    expect(body.missingScopes).toEqual(['workflows:read']);
  });

  it('answers revoked, disabled and expired keys with 401 and the reason', async () => {
    const revoked = await keys.create({ ownerId: 'u', name: 'r', scopes: ['workflows:read'] });
    await keys.revoke(revoked.keyId, 'test');
    await problem(await call('/workflows', { key: revoked.key }), 401, 'REVOKED');
    const disabled = await keys.create({ ownerId: 'u', name: 'd', scopes: ['workflows:read'] });
    await keys.disable(disabled.keyId);
    await problem(await call('/workflows', { key: disabled.key }), 401, 'DISABLED');
    const expiring = await keys.create({
      ownerId: 'u',
      name: 'e',
      scopes: ['workflows:read'],
      expiresInDays: 1,
    });
    expect((await call('/workflows', { key: expiring.key })).status).toBe(200);
    clock.advance(DAY);
    try {
      await problem(await call('/workflows', { key: expiring.key }), 401, 'EXPIRED');
    } finally {
      clock.advance(-DAY);
    }
  });

  it('answers a limited key with 429 and Retry-After, never 401', async () => {
    const limited = await keys.create({
      ownerId: 'u',
      name: 'l',
      scopes: ['workflows:read'],
      rateLimit: { limit: 2, windowSeconds: 30 },
    });
    expect((await call('/workflows', { key: limited.key })).status).toBe(200);
    expect((await call('/workflows', { key: limited.key })).status).toBe(200);
    const res = await call('/workflows', { key: limited.key });
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = await problem(res, 429, 'RATE_LIMITED');
    expect(body.retryAfterSeconds).toBe(retryAfter);
  });

  it('lets requests without a key through an optional guard, but not bad keys', async () => {
    expect(await (await call('/public')).json()).toEqual({ key: null });
    expect((await (await call('/public', { key: reader })).json()) as object).toMatchObject({
      key: 'reader',
    });
    await problem(await call('/public', { key: 'garbage' }), 401, 'MALFORMED');
  });

  it('never echoes a key from the query string', async () => {
    const res = await call(`/workflows?api_key=${encodeURIComponent(reader)}`);
    const text = await res.text();
    expect(res.status).toBe(401);
    expect(text).not.toContain(parseApiKey(reader)!.secret);
    expect(JSON.parse(text)).toMatchObject({ instance: '/workflows' });
  });

  it('serves the REST routes to admins only', async () => {
    await problem(await call('/api-keys?ownerId=user-1'), 401, 'MISSING_KEY');
    await problem(await call('/api-keys?ownerId=user-1', { key: reader }), 403, 'INSUFFICIENT_SCOPE');

    const created = await call('/api-keys', {
      key: admin,
      method: 'POST',
      body: { ownerId: 'user-9', name: 'from REST', scopes: ['workflows:read'], expiresInDays: 30 },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const body = (await created.json()) as { key: string; keyId: string; name: string; status: string };
    expect(body).toMatchObject({ name: 'from REST', status: 'active' });
    expect((await call('/workflows', { key: body.key })).status).toBe(200);

    const listed = (await (await call('/api-keys?ownerId=user-9', { key: admin })).json()) as {
      items: unknown[];
    };
    expect(listed.items).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(parseApiKey(body.key)!.secret);
    const one = (await (await call(`/api-keys/${body.keyId}`, { key: admin })).json()) as Record<
      string,
      unknown
    >;
    expect(one).toMatchObject({ keyId: body.keyId, ownerId: 'user-9', useCount: 1 });
    expect(one).not.toHaveProperty('key');

    const rotated = await call(`/api-keys/${body.keyId}/rotate`, {
      key: admin,
      method: 'POST',
      body: { graceSeconds: 60 },
    });
    expect(rotated.status).toBe(201);
    const fresh = (await rotated.json()) as { key: string; keyId: string; rotatedFrom: string };
    expect(fresh.rotatedFrom).toBe(body.keyId);
    expect((await call('/workflows', { key: body.key })).status).toBe(200);
    expect((await call('/workflows', { key: fresh.key })).status).toBe(200);

    const revoked = await call(`/api-keys/${body.keyId}?reason=rotated%20out`, {
      key: admin,
      method: 'DELETE',
    });
    expect(await revoked.json()).toMatchObject({ status: 'revoked', revokedReason: 'rotated out' });
    await problem(await call('/workflows', { key: body.key }), 401, 'REVOKED');

    const disabled = await call(`/api-keys/${fresh.keyId}/disable`, {
      key: admin,
      method: 'POST',
      body: { reason: 'billing' },
    });
    expect(await disabled.json()).toMatchObject({ status: 'disabled' });
    const enabled = await call(`/api-keys/${fresh.keyId}/enable`, { key: admin, method: 'POST' });
    expect(await enabled.json()).toMatchObject({ status: 'active' });
    const audit = (await (await call(`/api-keys/${body.keyId}/audit`, { key: admin })).json()) as {
      items: Array<{ action: string; actor: string }>;
    };
    expect(audit.items.map((e) => e.action)).toEqual(['created', 'rotated', 'revoked']);
    // The admin key's owner is recorded as the actor.
    expect(audit.items.every((e) => e.actor === 'ops')).toBe(true);
  });

  it('answers bad REST input with 400 / 404 / 409 problem+json', async () => {
    const post = (body: unknown) => call('/api-keys', { key: admin, method: 'POST', body });
    await problem(await post({ ownerId: 'o', name: 'x', admin: true }), 400, 'INVALID_INPUT');
    await problem(await post({ ownerId: 'o', name: 'x', scopes: 'all' }), 400, 'INVALID_INPUT');
    await problem(await post([1, 2]), 400, 'INVALID_INPUT');
    await problem(await call('/api-keys', { key: admin }), 400, 'INVALID_INPUT');
    await problem(await call('/api-keys/short', { key: admin }), 400, 'INVALID_INPUT');
    await problem(await call('/api-keys/AAAAAAAAAAAA', { key: admin }), 404, 'KEY_NOT_FOUND');
    const { keyId } = await keys.create({ ownerId: 'o', name: 'gone' });
    await keys.revoke(keyId);
    await problem(
      await call(`/api-keys/${keyId}/rotate`, { key: admin, method: 'POST', body: {} }),
      409,
      'INVALID_STATE',
    );
  });
});

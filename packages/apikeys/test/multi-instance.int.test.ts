import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeWithCommand,
  describeWithPostgres,
  describeWithRedis,
  type RedisServerHandle,
  startRedisServer,
} from '@plat/testkit';
import { createClient } from 'redis';
import {
  type ApiKeyManager,
  type ApiKeyManagerOptions,
  type ApiKeyStore,
  type ApiKeyValidation,
  createApiKeyManager,
  createPostgresInvalidationSignal,
  createPostgresKeyStore,
  createSqliteKeyStore,
} from '../src';
import { errorLog, PEPPER } from './helpers';

/** Polls until `check` holds, returning how long it took; fails after `limitMs`. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const rejectedFor = (reason: string) => (result: ApiKeyValidation) =>
  !result.valid && result.reason === reason;

describeWithRedis('two instances sharing Redis', (redis) => {
  describeWithPostgres('and PostgreSQL', (pg) => {
    type Client = ReturnType<typeof createClient>;
    const clients: Client[] = [];
    const managers: ApiKeyManager[] = [];
    let store: ApiKeyStore;
    let log: ReturnType<typeof errorLog>;

    const instance = async (options: Partial<ApiKeyManagerOptions> = {}) => {
      const client: Client = createClient({ url: redis.url });
      await client.connect();
      clients.push(client);
      const manager = createApiKeyManager({
        // Each instance its own pool, as separate processes would have.
        store: options.store ?? store,
        peppers: [PEPPER],
        redis: client,
        redisKeyPrefix: redis.prefix,
        // A TTL far beyond the test: only the Redis signal can make an instance notice a change.
        cache: { ttlSeconds: 3600 },
        onError: log.onError,
        ...options,
      });
      await manager.ready();
      managers.push(manager);
      return manager;
    };

    beforeAll(async () => {
      store = createPostgresKeyStore({ connectionString: pg.url });
      await store.migrate();
    });
    beforeEach(() => {
      log = errorLog();
    });
    afterEach(async () => {
      await Promise.all(managers.splice(0).map((m) => m.close()));
      await Promise.all(clients.splice(0).map((c) => c.close()));
    });
    afterAll(() => store.close());

    it('stops a revoked key on the other instance within a second', async () => {
      const second = createPostgresKeyStore({ connectionString: pg.url });
      try {
        const a = await instance();
        const b = await instance({ store: second });
        const { key, keyId } = await a.create({ ownerId: 'o1', name: 'k' });
        expect((await a.validate(key)).valid).toBe(true);
        expect((await b.validate(key)).valid).toBe(true);
        // B now answers from its cache, with no store read...
        expect(b.check(key)).toMatchObject({ valid: true });
        await a.revoke(keyId, 'compromised');
        // ...and still drops the key as soon as the signal arrives.
        const elapsed = await within(1000, async () => rejectedFor('REVOKED')(await b.validate(key)));
        expect(elapsed).toBeLessThan(1000);
        expect(log.lines).toEqual([]);
        await b.close();
      } finally {
        await second.close();
      }
    });

    it('propagates rotation and disabling both ways', async () => {
      const a = await instance();
      const b = await instance();
      const old = await a.create({ ownerId: 'o2', name: 'k' });
      expect((await b.validate(old.key)).valid).toBe(true);
      const fresh = await a.rotate(old.keyId, { graceSeconds: 0 });
      await within(1000, async () => rejectedFor('EXPIRED')(await b.validate(old.key)));
      expect((await b.validate(fresh.key)).valid).toBe(true);
      expect((await a.validate(fresh.key)).valid).toBe(true);
      await b.disable(fresh.keyId);
      await within(1000, async () => rejectedFor('DISABLED')(await a.validate(fresh.key)));
    });

    it('shares a key’s rate limit and quota across instances', async () => {
      const a = await instance();
      const b = await instance();
      const limited = await a.create({
        ownerId: 'o3',
        name: 'k',
        rateLimit: { limit: 10, windowSeconds: 60 },
      });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).validate(limited.key)),
      );
      expect(results.filter((r) => r.valid)).toHaveLength(10);
      const refused = results.filter((r) => !r.valid);
      expect(refused.every((r) => !r.valid && r.reason === 'RATE_LIMITED' && r.retryAfterSeconds! >= 1)).toBe(
        true,
      );

      const quota = await a.create({ ownerId: 'o3', name: 'q', quota: { limit: 4, periodSeconds: 3600 } });
      const verdicts = [];
      for (let i = 0; i < 6; i++) verdicts.push(await (i % 2 === 0 ? a : b).validate(quota.key));
      expect(verdicts.map((r) => (r.valid ? 'ok' : r.reason))).toEqual([
        'ok',
        'ok',
        'ok',
        'ok',
        'QUOTA_EXCEEDED',
        'QUOTA_EXCEEDED',
      ]);
      // The counters live in this file's Redis prefix.
      const keysInRedis = [];
      for await (const batch of redis.client.scanIterator({ MATCH: `${redis.prefix}limits:*` }))
        keysInRedis.push(...batch);
      expect(keysInRedis).toHaveLength(2);
    });
  });
});

describeWithCommand('redis-server', 'instances when Redis goes away', () => {
  let server: RedisServerHandle;
  let dir: string;
  let store: ApiKeyStore;
  const clients: Array<ReturnType<typeof createClient>> = [];
  const managers: ApiKeyManager[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'plat-apikeys-'));
    store = createSqliteKeyStore({ filename: join(dir, 'keys.db') });
  });
  afterAll(async () => {
    await Promise.all(managers.map((m) => m.close()));
    for (const client of clients) client.destroy();
    await server.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps validating, limits in process, and forgets its cache when the signal comes back', async () => {
    const log = errorLog();
    const instance = async () => {
      const client = createClient({
        url: server.url,
        socket: { reconnectStrategy: () => 50, connectTimeout: 500 },
      });
      client.on('error', () => {});
      await client.connect();
      clients.push(client);
      const manager = createApiKeyManager({
        store,
        peppers: [PEPPER],
        redis: client,
        cache: { ttlSeconds: 3600 },
        onError: log.onError,
      });
      await manager.ready();
      managers.push(manager);
      return manager;
    };
    const a = await instance();
    const b = await instance();
    const { key, keyId } = await a.create({
      ownerId: 'o',
      name: 'k',
      rateLimit: { limit: 3, windowSeconds: 60 },
    });
    expect((await a.validate(key)).valid).toBe(true);
    expect((await b.validate(key)).valid).toBe(true);

    await server.stop();
    // Redis is gone: validation still answers, and the limit still holds, per instance.
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push(await a.validate(key));
    expect(verdicts.map((r) => (r.valid ? 'ok' : r.reason))).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED']);
    // A revocation cannot be signalled now; the revoking instance applies it at once regardless.
    await b.revoke(keyId, 'while Redis was down');
    expect(await b.validate(key)).toMatchObject({ reason: 'REVOKED' });
    expect(log.lines.some((line) => line.includes('STORE_UNAVAILABLE'))).toBe(true);

    // Redis returns on the same port: A's subscriber reconnects and drops what it cached meanwhile.
    server = await startRedisServer({ port: server.port });
    await within(10_000, async () => rejectedFor('REVOKED')(await a.validate(key)));
  });
});

describeWithPostgres('two instances sharing PostgreSQL, without Redis', (pg) => {
  const managers: ApiKeyManager[] = [];
  const stores: ApiKeyStore[] = [];
  let log: ReturnType<typeof errorLog>;

  /** A manager on its own pool, as a separate process would have, with a one-hour cache. */
  const instance = async (options: Partial<ApiKeyManagerOptions> = {}) => {
    const store = createPostgresKeyStore({ connectionString: pg.url, maxConnections: 2 });
    stores.push(store);
    const manager = createApiKeyManager({
      store,
      peppers: [PEPPER],
      // Far beyond the test: only the signal can make an instance notice a change.
      cache: { ttlSeconds: 3600 },
      onError: log.onError,
      ...options,
    });
    await manager.ready();
    managers.push(manager);
    return manager;
  };

  beforeEach(() => {
    log = errorLog();
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  it('stops a revoked key on the other instance within a second through LISTEN / NOTIFY', async () => {
    const a = await instance();
    const b = await instance();
    const { key, keyId } = await a.create({ ownerId: 'pg1', name: 'k' });
    expect((await b.validate(key)).valid).toBe(true);
    expect(b.check(key)).toMatchObject({ valid: true }); // served from B's cache from now on
    await a.revoke(keyId, 'compromised');
    const elapsed = await within(1000, async () => rejectedFor('REVOKED')(await b.validate(key)));
    expect(elapsed).toBeLessThan(1000);
    expect(log.lines).toEqual([]);
  });

  it('without a signal, the other instance keeps its cached answer (what the signal is for)', async () => {
    const a = await instance({ invalidation: false });
    const b = await instance({ invalidation: false });
    const { key, keyId } = await a.create({ ownerId: 'pg2', name: 'k' });
    expect((await b.validate(key)).valid).toBe(true);
    await a.revoke(keyId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await b.validate(key)).valid).toBe(true);
    expect((await a.validate(key)).valid).toBe(false);
  });

  it('reconnects a lost listener and drops its cache, since it may have missed a revocation', async () => {
    const channel = `plat_test_${process.pid}_${Date.now()}`;
    const signal = () =>
      createPostgresInvalidationSignal({ connectionString: pg.url, channel, reconnectDelayMs: 300 });
    const a = await instance({ invalidation: signal() });
    const b = await instance({ invalidation: signal() });
    const { key, keyId } = await a.create({ ownerId: 'pg3', name: 'k' });
    expect((await b.validate(key)).valid).toBe(true);

    // Both listeners lose their connections; the revoke is sent while nobody listens.
    const terminated = await terminateListeners(pg.url, channel);
    expect(terminated).toBe(2);
    await a.revoke(keyId);

    // B never hears that notification, but clears its cache once it listens again.
    await within(3000, async () => rejectedFor('REVOKED')(await b.validate(key)));
    expect(log.lines.some((line) => line.includes('STORE_UNAVAILABLE'))).toBe(true);

    // And the new connections carry the next change as before.
    const second = await a.create({ ownerId: 'pg3', name: 'k2' });
    expect((await b.validate(second.key)).valid).toBe(true);
    await a.disable(second.keyId);
    await within(1000, async () => rejectedFor('DISABLED')(await b.validate(second.key)));
  });

  it('keeps validating when the listener cannot connect, and says so', async () => {
    const unreachable = createPostgresInvalidationSignal({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      reconnectDelayMs: 60_000,
    });
    const a = await instance({ invalidation: unreachable });
    const { key, keyId } = await a.create({ ownerId: 'pg4', name: 'k' });
    expect((await a.validate(key)).valid).toBe(true);
    await a.revoke(keyId); // the publish fails too: reported, the revoke itself stands
    expect((await a.validate(key)).valid).toBe(false);
    expect(log.lines.filter((line) => line.includes('STORE_UNAVAILABLE')).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses bad signal options with a typed error', () => {
    expect(() => createPostgresInvalidationSignal({ connectionString: '' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() =>
      createPostgresInvalidationSignal({ connectionString: pg.url, channel: 'x'.repeat(64) }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() =>
      createApiKeyManager({
        store: createSqliteKeyStore({ filename: ':memory:' }),
        peppers: [PEPPER],
        invalidation: {} as never,
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });
});

/** Ends the backends that LISTEN on `channel` (as a failover or an idle-connection killer would). */
async function terminateListeners(url: string, channel: string): Promise<number> {
  const { default: pgLib } = await import('pg');
  const client = new pgLib.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where application_name = 'plat-apikeys-invalidation' and query = $1`,
      [`LISTEN "${channel}"`],
    );
    return result.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

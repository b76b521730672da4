/**
 * Faults on a private redis-server (never the shared one): stopped, paused, restarted, and a lost
 * subscription. Reads fall through, invalidations reject with typed errors, nothing hangs.
 */
import { describeWithCommand, type RedisServerHandle, startRedisServer } from '@plat/testkit';
import { createClient, type RedisClientType } from 'redis';
import { type CacheStore, createCache, createRedisStore, type ReadEvent } from '../src';

const TIMEOUT_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

describeWithCommand('redis-server', '@plat/cache-deps when Redis fails', () => {
  let server: RedisServerHandle;
  let client: RedisClientType;
  let store: CacheStore;

  const connect = async (url: string) => {
    const c = createClient({
      url,
      socket: { reconnectStrategy: (retries) => Math.min(20 + retries * 20, 200) },
    }) as RedisClientType;
    c.on('error', () => {});
    await c.connect();
    return c;
  };

  beforeEach(async () => {
    server = await startRedisServer();
    client = await connect(server.url);
    store = createRedisStore({ client, timeoutMs: TIMEOUT_MS });
  });
  afterEach(async () => {
    await store.close();
    if (client.isReady) await client.close();
    else client.destroy();
    await server.stop();
  });

  it('falls through to the loader on reads and rejects writes and invalidations, quickly', async () => {
    const errors: unknown[] = [];
    const cache = createCache({
      store,
      namespace: 'f',
      // Only reads: the announcement of the first write may or may not fail too, depending on timing.
      onError: (error, context) => {
        if (context.operation === 'read') errors.push(error);
      },
    });
    const strict = createCache({ store, namespace: 'f', failOpen: false });
    await cache.set('k', 'cached', { dependsOn: ['u'] });
    await server.stop();
    await until(() => !client.isReady);

    const started = performance.now();
    expect(await cache.get('k')).toBeUndefined();
    expect(errors).toEqual([expect.objectContaining({ code: 'STORE_UNAVAILABLE' })]);
    let calls = 0;
    expect(await cache.wrap('k', async () => `loaded ${++calls}`)).toBe('loaded 1');
    await expect(strict.get('k')).rejects.toMatchObject({ name: 'CacheError', code: 'STORE_UNAVAILABLE' });
    await expect(strict.wrap('k', async () => 'x')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(cache.invalidate('u')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(cache.invalidatePattern('*')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(cache.set('k', 1)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(cache.delete('k')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(performance.now() - started).toBeLessThan(3_000);
    await cache.close();
    await strict.close();
  });

  it('gives STORE_TIMEOUT within the configured timeout while Redis is paused', async () => {
    const cache = createCache({ store, namespace: 'p' });
    const strict = createCache({ store, namespace: 'p', failOpen: false });
    await cache.set('k', 'cached', { dependsOn: ['u'] });
    const admin = await connect(server.url);
    await admin.sendCommand(['CLIENT', 'PAUSE', '1500', 'ALL']);

    let started = performance.now();
    await expect(strict.get('k')).rejects.toMatchObject({
      code: 'STORE_TIMEOUT',
      details: { timeoutMs: TIMEOUT_MS },
    });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(waited).toBeLessThan(1_400);

    started = performance.now();
    expect(await cache.wrap('k', async () => 'from loader')).toBe('from loader');
    await expect(cache.invalidate('u')).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
    expect(performance.now() - started).toBeLessThan(1_400);

    await sleep(1_600);
    // After the pause the invalidation may or may not have happened; a new one settles it.
    await cache.invalidate('u');
    expect(await cache.get('k')).toBeUndefined();
    await admin.close();
    await cache.close();
    await strict.close();
  });

  it('works again once Redis is back', async () => {
    const cache = createCache({ store, namespace: 'r' });
    await server.stop();
    await until(() => !client.isReady);
    await expect(cache.set('k', 1)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    server = await startRedisServer({ port: server.port });
    await until(() => client.isReady);
    await cache.set('k', 1, { dependsOn: ['u'] });
    expect(await cache.get('k')).toBe(1);
    expect((await cache.invalidate('u')).keys).toEqual(['u', 'k']);
    await cache.close();
  });

  it('empties L1 when its subscription is lost, and serves from L1 again once it is back', async () => {
    const layers: Array<ReadEvent['layer']> = [];
    const cache = createCache({
      store,
      namespace: 'l',
      l1: { leaseMs: 400 },
      onRead: (event) => layers.push(event.layer),
    });
    await cache.set('k', 'v');
    const lastLayer = async () => {
      layers.length = 0;
      await cache.get('k');
      return layers[0];
    };
    await until(async () => (await lastLayer()) === 'l1');

    const admin = await connect(server.url);
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    // The loss is seen at once (connection error) or at the latest when the lease runs out.
    await until(async () => (await lastLayer()) === 'store', 1_000);
    // Reconnected, re-subscribed, lease renewed: L1 serves again.
    await until(async () => (await lastLayer()) === 'l1', 5_000);
    await admin.close();
    await cache.close();
  });

  it('stops serving from L1 within one lease when Redis goes away', async () => {
    const cache = createCache({ store, namespace: 'g', l1: { leaseMs: 400 } });
    await cache.set('k', 'old');
    const layers: Array<ReadEvent['layer']> = [];
    cache.onRead((event) => layers.push(event.layer));
    await until(async () => {
      layers.length = 0;
      await cache.get('k');
      return layers[0] === 'l1';
    });
    await server.stop();
    await sleep(450);
    // Redis is gone and the lease has lapsed: the old value must not come from memory.
    expect(await cache.get('k')).toBeUndefined();
    await cache.close();
  });
});

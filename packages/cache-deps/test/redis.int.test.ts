import { describeWithRedis } from '@plat/testkit';
import { createClient, type RedisClientType } from 'redis';
import { type Cache, type CacheStore, createCache, createRedisStore, type ReadEvent } from '../src';
import { describeCoherence } from './coherence';
import { describeConformance } from './conformance';

describeWithRedis('@plat/cache-deps on Redis', (redis) => {
  let counter = 0;
  let store: CacheStore;
  beforeAll(() => {
    // Generous: the test machine is shared, and the 10,000-node test sends thousands of calls at once.
    store = createRedisStore({ client: redis.client, timeoutMs: 10_000 });
  });
  afterAll(() => store.close());

  const namespace = () => `${redis.prefix}n${++counter}`;

  describeConformance('conformance', {
    store: () => store,
    namespace,
    create: (options) => createCache(options),
    async storedKeys(ns) {
      const keys: string[] = [];
      for await (const batch of redis.client.scanIterator({ MATCH: `${ns}:*`, COUNT: 1000 }))
        keys.push(...batch);
      return keys;
    },
  });

  it('keeps every key of a node in one hash slot and reads an entry with one GET', async () => {
    const ns = namespace();
    const cache = createCache({ store, namespace: ns });
    await cache.set('a{x}b', 1, { dependsOn: ['p'] });
    const keys: string[] = [];
    for await (const batch of redis.client.scanIterator({ MATCH: `${ns}:*`, COUNT: 1000 }))
      keys.push(...batch);
    expect(keys.sort()).toEqual([`${ns}:{a{x}b}:n`, `${ns}:{a{x}b}:v`, `${ns}:{p}:n`]);
    const slots = await Promise.all(
      [`${ns}:{a{x}b}:n`, `${ns}:{a{x}b}:v`].map((key) =>
        redis.client.sendCommand(['CLUSTER', 'KEYSLOT', key]).catch(() => 'n/a'),
      ),
    );
    if (slots[0] !== 'n/a') expect(slots[0]).toBe(slots[1]);
    await cache.close();
  });

  describeCoherence('L1 coherence', {
    namespace,
    async instance() {
      const client = createClient({ url: redis.url }) as RedisClientType;
      client.on('error', () => {});
      await client.connect();
      const own = createRedisStore({ client });
      return {
        store: own,
        close: async () => {
          await own.close();
          if (client.isOpen) await client.close();
        },
        kill: () => client.destroy(),
      };
    },
  });

  it('rejects with INVALIDATION_UNCONFIRMED when a lease holder never confirms, after removing the keys', async () => {
    const ns = namespace();
    const cache = createCache({ store, namespace: ns, l1: { leaseMs: 300, ackTimeoutMs: 400 } });
    await cache.set('k', 1, { dependsOn: ['u'] });
    // An instance that holds a lease for a minute but never answers (a hung process).
    const [seconds] = (await redis.client.sendCommand(['TIME'])) as [string, string];
    await redis.client.zAdd(`${ns}:{${ns}}:l1`, { score: Number(seconds) * 1000 + 60_000, value: 'deaf' });
    const started = performance.now();
    await expect(cache.invalidate('u')).rejects.toMatchObject({
      code: 'INVALIDATION_UNCONFIRMED',
      details: { unconfirmed: 1, ackTimeoutMs: 400 },
    });
    expect(performance.now() - started).toBeLessThan(3_000);
    // The store part is done: no instance reading Redis sees the old value.
    const other = createCache({ store, namespace: ns });
    expect(await other.get('k')).toBeUndefined();
    await redis.client.zRem(`${ns}:{${ns}}:l1`, 'deaf');
    await other.close();
    await cache.close();
  });

  it('rejects an L1 on the memory store', () => {
    expect(() => createCache({ l1: true })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('reports reads answered by L1', async () => {
    const ns = namespace();
    const events: ReadEvent[] = [];
    const cache: Cache = createCache({
      store,
      namespace: ns,
      l1: { leaseMs: 300 },
      onRead: (e) => events.push(e),
    });
    await cache.set('k', 1);
    for (let i = 0; i < 100 && !events.some((e) => e.layer === 'l1'); i++) {
      await cache.get('k');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(events.some((e) => e.layer === 'l1' && e.hit)).toBe(true);
    await cache.close();
  });
});

/**
 * Several warmer instances against one real Redis: a schedule runs once per firing across the
 * fleet, refresh-ahead recomputes once per expiry window across the fleet, popularity is shared.
 */
import { type Cache, createCache, createRedisStore } from '@plat/cache-deps';
import { describeWithRedis } from '@plat/testkit';
import { createWarmer, type RunResult, type Warmer } from '../src';

describeWithRedis('@plat/cache-warm fleet on Redis', (redis) => {
  const caches: Cache[] = [];
  const warmers: Warmer[] = [];
  let run = 0;

  /** One instance of the service: its own cache object and warmer, sharing Redis with the others. */
  function instance(namespace: string, options: Partial<Parameters<typeof createWarmer>[0]> = {}) {
    const cache = createCache({ store: createRedisStore({ client: redis.client }), namespace });
    const warmer = createWarmer({
      cache,
      redis: redis.client,
      prefix: `${redis.prefix}${namespace}`,
      ...options,
    });
    caches.push(cache);
    warmers.push(warmer);
    return { cache, warmer };
  }

  afterEach(async () => {
    await Promise.all(warmers.splice(0).map((warmer) => warmer.stop()));
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });

  it('runs each firing of a schedule on exactly one of two instances', async () => {
    const namespace = `${redis.prefix.replace(/:$/, '')}-sched${++run}`;
    let keyCalls = 0;
    const results: RunResult[] = [];
    let firings = 0;
    let enough!: () => void;
    const done = new Promise<void>((resolve) => {
      enough = resolve;
    });
    const onRun = (result: RunResult) => {
      results.push(result);
      if (results.length >= 6) enough();
      firings = new Set(results.map((r) => r.scheduledAt)).size;
    };
    for (let i = 0; i < 2; i++) {
      const { warmer } = instance(namespace, { onRun, jitter: '200ms' });
      warmer.register('every-second', {
        keys: () => {
          keyCalls += 1;
          return ['catalog'];
        },
        load: () => ({ at: Date.now() }),
        ttl: 60_000,
        skipFresherThan: 0,
        schedule: '* * * * * *',
      });
    }
    await done;
    await Promise.all(warmers.map((warmer) => warmer.stop()));
    const byFiring = new Map<string, RunResult[]>();
    for (const result of results) {
      const list = byFiring.get(result.scheduledAt!) ?? [];
      list.push(result);
      byFiring.set(result.scheduledAt!, list);
    }
    let complete = 0;
    for (const [, list] of byFiring) {
      // Each firing: one instance ran it, the other found it locked.
      expect(list.filter((r) => r.outcome === 'completed')).toHaveLength(1);
      expect(list.filter((r) => r.outcome !== 'completed').every((r) => r.outcome === 'locked')).toBe(true);
      if (list.length === 2) complete += 1;
    }
    expect(complete).toBeGreaterThanOrEqual(2);
    expect(keyCalls).toBe(byFiring.size);
    expect(firings).toBe(byFiring.size);
  });

  it('recomputes a hot key once per expiry window across the fleet', async () => {
    const namespace = `${redis.prefix.replace(/:$/, '')}-ra${++run}`;
    let loads = 0;
    const load = () => {
      loads += 1;
      return { loads };
    };
    const fleet = [instance(namespace), instance(namespace)];
    for (const { warmer } of fleet) {
      // β so large that every hit with known metadata is due: only the lock keeps it to one.
      warmer.register('hot', {
        keys: [],
        match: 'k:',
        load,
        ttl: 60_000,
        refreshAhead: { beta: 1e9, minReads: 0 },
      });
    }
    await fleet[0]!.cache.wrap('k:1', load, { ttl: 60_000 });
    expect(loads).toBe(1);
    // Round 1 reads the entry's metadata; in round 2 both instances find the refresh due.
    for (let round = 0; round < 2; round++) {
      await Promise.all(fleet.map(({ cache }) => cache.get('k:1')));
      // Let probes and refreshes of this round finish.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(warmers.map((warmer) => warmer.stop()));
    expect(loads).toBe(2);
    const done = fleet.map(({ warmer }) => warmer.statusOf('hot')!.refreshes.done);
    expect(done.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('skips a firing when Redis is unreachable, reports it, and keeps running', async () => {
    const { createClient } = await import('redis');
    const broken = createClient({ url: redis.url });
    await broken.connect();
    await broken.close(); // a client that can no longer reach Redis
    const cache = createCache({ namespace: `${redis.prefix.replace(/:$/, '')}-down${++run}` });
    caches.push(cache);
    const errors: unknown[] = [];
    let reported!: () => void;
    const sawError = new Promise<void>((resolve) => {
      reported = resolve;
    });
    let keyCalls = 0;
    const warmer = createWarmer({
      cache,
      redis: broken,
      popularity: { shared: false },
      onError: (error) => {
        errors.push(error);
        reported();
      },
    });
    warmers.push(warmer);
    warmer.register('every-second', {
      keys: () => {
        keyCalls += 1;
        return [];
      },
      load: () => 1,
      schedule: '* * * * * *',
    });
    await sawError;
    expect(errors[0]).toMatchObject({ name: 'CacheWarmError', code: 'REDIS_FAILED' });
    expect(keyCalls).toBe(0);
    // Still usable on demand.
    expect((await warmer.run('every-second')).outcome).toBe('completed');
  });

  it('adds up popularity across instances in a Redis sorted set', async () => {
    const namespace = `${redis.prefix.replace(/:$/, '')}-pop${++run}`;
    const a = instance(namespace);
    const b = instance(namespace);
    for (let i = 0; i < 5; i++) await a.cache.get('only-on-a');
    for (let i = 0; i < 3; i++) await b.cache.get('only-on-b');
    for (let i = 0; i < 2; i++) await b.cache.get('only-on-a');
    await b.warmer.popularKeys(10); // flushes b's counts
    expect(await a.warmer.popularKeys(10)).toEqual([
      { key: 'only-on-a', count: 7 },
      { key: 'only-on-b', count: 3 },
    ]);
    const keys = await redis.client.keys(`*${namespace}:pop*`);
    expect(keys.length).toBeGreaterThan(0);
  });
});

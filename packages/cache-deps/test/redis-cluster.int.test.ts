import { describeWithCommand, type RedisClusterHandle, startRedisCluster } from '@plat/testkit';
import { createClient, createCluster, type RedisClusterType } from 'redis';
import { type CacheStore, createCache, createRedisStore } from '../src';
import { describeCoherence } from './coherence';
import { describeConformance } from './conformance';

async function connectCluster(handle: RedisClusterHandle): Promise<RedisClusterType> {
  const cluster = createCluster({ rootNodes: [...handle.rootNodes] }) as RedisClusterType;
  cluster.on('error', () => {});
  await cluster.connect();
  return cluster;
}

/** Keys on each master, counted with SCAN (never KEYS). */
async function keysPerMaster(handle: RedisClusterHandle, match: string): Promise<number[]> {
  return Promise.all(
    handle.nodes.map(async (node) => {
      const client = createClient({ url: node.url });
      await client.connect();
      let count = 0;
      for await (const batch of client.scanIterator({ MATCH: match, COUNT: 1000 })) count += batch.length;
      await client.close();
      return count;
    }),
  );
}

describeWithCommand('redis-cli', '@plat/cache-deps on a 3-master Redis Cluster', () => {
  describeWithCommand('redis-server', 'cluster', () => {
    let handle: RedisClusterHandle;
    let cluster: RedisClusterType;
    let store: CacheStore;
    let counter = 0;
    beforeAll(async () => {
      handle = await startRedisCluster({ masters: 3 });
      cluster = await connectCluster(handle);
      // Generous: the test machine is shared, and the 10,000-node test sends thousands of calls at once.
      store = createRedisStore({ client: cluster, timeoutMs: 10_000 });
    }, 90_000);
    afterAll(async () => {
      await store?.close();
      await cluster?.close();
      await handle?.stop();
    });

    const namespace = () => `c${++counter}`;

    it('is a cluster store', () => {
      expect(store.kind).toBe('redis-cluster');
      expect(cluster.masters).toHaveLength(3);
    });

    describeConformance('conformance', {
      store: () => store,
      namespace,
      create: (options) => createCache(options),
      async storedKeys(ns) {
        const counts = await keysPerMaster(handle, `${ns}:*`);
        return counts.flatMap((count, i) => (count > 0 ? [`${count} key(s) on master ${i}`] : []));
      },
    });

    it('spreads one namespace over every master and invalidates across them', async () => {
      const ns = namespace();
      const cache = createCache({ store, namespace: ns, defaultTtl: 6_000 });
      await cache.set('root', 0);
      for (let i = 0; i < 300; i++)
        await cache.set(`item:${i}`, i, { dependsOn: ['root', `group:${i % 10}`] });
      const counts = await keysPerMaster(handle, `${ns}:*`);
      for (const count of counts) expect(count).toBeGreaterThan(50);
      expect((await cache.invalidate('group:3')).keys).toHaveLength(31);
      // item:1, item:10-19, item:100-199, less the 11 of group 3 already gone.
      expect((await cache.invalidatePattern('item:1*')).keys).toHaveLength(111 - 11);
      expect((await cache.invalidate('root')).keys).toHaveLength(1 + 300 - 30 - 100);
      const groups = Array.from({ length: 10 }, (_, i) => `group:${i}`);
      // group:3 was invalidated already: walked through, not listed again.
      expect([...(await cache.invalidateMany(groups)).keys].sort()).toEqual(
        groups.filter((g) => g !== 'group:3'),
      );
      // Edges outlive invalidations (a retry must find its way) but expire with their entries.
      const deadline = Date.now() + 20_000;
      let left = await keysPerMaster(handle, `${ns}:*:n`);
      while (left.some((count) => count > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        left = await keysPerMaster(handle, `${ns}:*:n`);
      }
      expect(left).toEqual([0, 0, 0]);
      await cache.close();
    }, 60_000);

    describeCoherence('L1 coherence', {
      namespace,
      async instance() {
        const own = await connectCluster(handle);
        const ownStore = createRedisStore({ client: own });
        return {
          store: ownStore,
          close: async () => {
            await ownStore.close();
            if (own.isOpen) await own.close();
          },
          kill: () => own.destroy(),
        };
      },
    });
  });
});

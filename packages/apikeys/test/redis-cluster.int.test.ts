import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithCommand, type RedisClusterHandle, startRedisCluster } from '@plat/testkit';
import { createCluster, type RedisClusterType } from 'redis';
import {
  type ApiKeyManager,
  type ApiKeyRedis,
  type ApiKeyStore,
  createApiKeyManager,
  createSqliteKeyStore,
} from '../src';
import { errorLog, PEPPER } from './helpers';

// Not the shared server of the other suites: a cluster of our own on free loopback ports, so the
// channel has to cross nodes and the rate-limit scripts have to be routed by key slot.
describeWithCommand('redis-cli', 'two instances on a 3-master Redis Cluster', () => {
  describeWithCommand('redis-server', 'cluster', () => {
    let handle: RedisClusterHandle;
    let dir: string;
    let store: ApiKeyStore;
    const clusters: RedisClusterType[] = [];
    const managers: ApiKeyManager[] = [];
    let log: ReturnType<typeof errorLog>;

    beforeAll(async () => {
      handle = await startRedisCluster({ masters: 3 });
      dir = mkdtempSync(join(tmpdir(), 'plat-apikeys-cluster-'));
      store = createSqliteKeyStore({ filename: join(dir, 'keys.db') });
    }, 90_000);
    afterAll(async () => {
      await Promise.all(managers.map((m) => m.close()));
      await Promise.all(clusters.map((c) => c.close()));
      await store?.close();
      await handle?.stop();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    const instance = async () => {
      const cluster = createCluster({ rootNodes: [...handle.rootNodes] }) as RedisClusterType;
      cluster.on('error', () => {});
      await cluster.connect();
      clusters.push(cluster);
      const manager = createApiKeyManager({
        store,
        peppers: [PEPPER],
        redis: cluster as unknown as ApiKeyRedis,
        cache: { ttlSeconds: 3600 },
        onError: log.onError,
      });
      await manager.ready();
      managers.push(manager);
      return manager;
    };

    beforeEach(() => {
      log = errorLog();
    });

    it('stops a revoked key on the other instance within a second', async () => {
      const a = await instance();
      const b = await instance();
      const { key, keyId } = await a.create({ ownerId: 'c1', name: 'k' });
      expect((await b.validate(key)).valid).toBe(true);
      expect(b.check(key)).toMatchObject({ valid: true });
      await a.revoke(keyId);
      const started = performance.now();
      for (;;) {
        const result = await b.validate(key);
        if (!result.valid && result.reason === 'REVOKED') break;
        if (performance.now() - started > 1000) throw new Error('still accepted after 1 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(log.lines).toEqual([]);
    });

    it('shares rate limits across instances, whichever node holds the key', async () => {
      const a = await instance();
      const b = await instance();
      // Several keys, so their counters land in different slots (and most likely on different masters).
      for (let k = 0; k < 4; k++) {
        const { key } = await a.create({
          ownerId: 'c2',
          name: `k${k}`,
          rateLimit: { limit: 5, windowSeconds: 60 },
        });
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).validate(key)),
        );
        expect(results.filter((r) => r.valid)).toHaveLength(5);
        expect(results.filter((r) => !r.valid && r.reason === 'RATE_LIMITED')).toHaveLength(5);
      }
      expect(log.lines).toEqual([]);
    });
  });
});

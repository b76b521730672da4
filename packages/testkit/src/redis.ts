import { createClient, type RedisClientType } from 'redis';
import { describeWithServices, isolationName, REDIS, serviceUrl } from './services';

/** A Redis key prefix owned by one test file; its keys are removed when the file's tests finish. */
export interface RedisTestKeyspace {
  readonly url: string;
  /** Prefix every key of this file must start with, ending in `:`. */
  readonly prefix: string;
  /** A connected node-redis client for setup and assertions. */
  readonly client: RedisClientType;
}

/**
 * A `describe` block with its own Redis key prefix, or a visible skip when PLAT_TEST_REDIS_URL is unset.
 *
 * @example
 * ```ts
 * describeWithRedis('cache on Redis', (redis) => {
 *   it('sets', async () => {
 *     await redis.client.set(`${redis.prefix}a`, '1');
 *   });
 * });
 * ```
 */
export function describeWithRedis(name: string, body: (redis: RedisTestKeyspace) => void): void {
  describeWithServices([REDIS], name, () => {
    let state: { url: string; prefix: string; client: RedisClientType } | undefined;
    const ready = () => {
      if (state === undefined)
        throw new Error('Redis test keyspace is not ready: use it inside hooks or tests');
      return state;
    };
    const keyspace: RedisTestKeyspace = {
      get url() {
        return ready().url;
      },
      get prefix() {
        return ready().prefix;
      },
      get client() {
        return ready().client;
      },
    };
    beforeAll(async () => {
      const url = serviceUrl(REDIS)!;
      const client: RedisClientType = createClient({ url });
      await client.connect();
      state = { url, prefix: `${isolationName('t')}:`, client };
    });
    afterAll(async () => {
      if (state === undefined) return;
      // Everything named after this file's isolation name: `<name>:…`, namespaces derived from it
      // (`<name>-…`), and Cluster hash-tagged keys (`{<name>…}…`). The name is unique per run.
      const base = state.prefix.replace(/:$/, '');
      await deleteByPrefix(state.client, base);
      await deleteByPrefix(state.client, `{${base}`);
      await state.client.close();
    });
    body(keyspace);
  });
}

/** Removes every key under `prefix` with SCAN + UNLINK (never KEYS). Returns how many were removed. */
export async function deleteByPrefix(client: RedisClientType, prefix: string): Promise<number> {
  let removed = 0;
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    if (keys.length > 0) removed += await client.unlink(keys);
  }
  return removed;
}

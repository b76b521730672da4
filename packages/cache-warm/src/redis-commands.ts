/**
 * The few Redis commands the warmer sends (locks and shared popularity), on a node-redis v5 client
 * or cluster alike. Every key of one call shares a `{hash tag}`, so scripts stay Cluster-safe.
 */
import { randomUUID } from 'node:crypto';
import { CacheWarmError } from './errors';
import type { WarmRedisClient } from './types';

type ClusterClient = Extract<WarmRedisClient, { readonly masters: readonly unknown[] }>;

function isCluster(client: WarmRedisClient): client is ClusterClient {
  return 'masters' in client;
}

/** Redis failures as `REDIS_FAILED`, the original kept as the cause. */
function redisError(error: unknown, what: string): CacheWarmError {
  return new CacheWarmError(
    'REDIS_FAILED',
    `Redis ${what} failed: ${error instanceof Error ? error.message : String(error)}`,
    {
      cause: error,
    },
  );
}

export class RedisCommands {
  readonly #client: WarmRedisClient;
  /** Identifies this instance in locks it holds (for status and debugging, not for release). */
  readonly owner = randomUUID();

  constructor(client: WarmRedisClient) {
    this.#client = client;
  }

  async send(key: string, args: string[], what: string): Promise<unknown> {
    try {
      return isCluster(this.#client)
        ? await this.#client.sendCommand(key, false, args)
        : await this.#client.sendCommand(args);
    } catch (error) {
      throw redisError(error, what);
    }
  }

  /**
   * Takes `key` for `ttlMs` unless someone holds it. The lock is never released early: it names one
   * occurrence (a firing, an expiry window), so holding it until it expires is the point.
   */
  async claim(key: string, ttlMs: number): Promise<boolean> {
    const reply = await this.send(
      key,
      ['SET', key, this.owner, 'NX', 'PX', String(Math.max(1, Math.ceil(ttlMs)))],
      'lock',
    );
    return reply === 'OK';
  }

  /** Runs a Lua script by its text (EVAL: the scripts are short and rare, no SHA cache needed). */
  eval(script: string, keys: string[], args: string[], what: string): Promise<unknown> {
    return this.send(keys[0]!, ['EVAL', script, String(keys.length), ...keys, ...args], what);
  }
}

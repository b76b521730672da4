/**
 * Cross-instance invalidation over Redis pub/sub: every lifecycle change publishes the key id, and
 * every manager drops its cached state for that key, so a revoked key stops working on every
 * instance within the pub/sub latency (milliseconds), not a cache TTL later.
 */
import { ApiKeyError } from './errors';
import type { ApiKeyRedis, ApiKeyRedisSubscriber, InvalidationSignal } from './types';

/** Delivered to listeners when every cached key must be dropped (messages may have been missed). */
export const ALL_KEYS = '*';

export class RedisInvalidationSignal implements InvalidationSignal {
  readonly #redis: ApiKeyRedis;
  readonly #channel: string;
  #subscriber: ApiKeyRedisSubscriber | undefined;

  constructor(redis: ApiKeyRedis, prefix: string) {
    this.#redis = redis;
    this.#channel = `${prefix}invalidate`;
  }

  /** Connects a duplicate of the client and subscribes. Failures are reported, never thrown. */
  async start(onKeyId: (keyId: string) => void, report: (error: ApiKeyError) => void): Promise<void> {
    try {
      const subscriber = this.#redis.duplicate();
      this.#subscriber = subscriber;
      subscriber.on('error', (cause) => {
        report(new ApiKeyError('STORE_UNAVAILABLE', 'Redis invalidation subscriber failed', { cause }));
      });
      // After a reconnect, messages sent while we were away are lost: forget everything cached.
      subscriber.on('ready', () => onKeyId(ALL_KEYS));
      await subscriber.connect();
      await subscriber.subscribe(this.#channel, (message) => onKeyId(message));
    } catch (cause) {
      report(
        new ApiKeyError('STORE_UNAVAILABLE', 'Could not subscribe to API key invalidations on Redis', {
          cause,
        }),
      );
    }
  }

  async publish(keyId: string): Promise<void> {
    await this.#redis.publish(this.#channel, keyId);
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber === undefined) return;
    try {
      await subscriber.close();
    } catch {
      // Already closed or never connected: nothing left to release.
    }
  }
}

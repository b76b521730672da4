/**
 * Cross-instance invalidation over Redis pub/sub: every lifecycle change publishes the key id, and
 * every manager drops its cached state for that key, so a revoked key stops working on every
 * instance within the pub/sub latency (milliseconds), not a cache TTL later.
 */
import { ApiKeyError } from './errors';
import type { ApiKeyRedis, ApiKeyRedisSubscriber } from './types';

/** Published when every cached key must be dropped. */
export const ALL_KEYS = '*';

export class InvalidationChannel {
  readonly #redis: ApiKeyRedis;
  readonly #channel: string;
  readonly #onMessage: (keyId: string) => void;
  readonly #report: (error: ApiKeyError) => void;
  #subscriber: ApiKeyRedisSubscriber | undefined;

  constructor(
    redis: ApiKeyRedis,
    prefix: string,
    onMessage: (keyId: string) => void,
    report: (error: ApiKeyError) => void,
  ) {
    this.#redis = redis;
    this.#channel = `${prefix}invalidate`;
    this.#onMessage = onMessage;
    this.#report = report;
  }

  /** Connects a duplicate of the client and subscribes. Failures are reported, never thrown. */
  async start(): Promise<void> {
    try {
      const subscriber = this.#redis.duplicate();
      this.#subscriber = subscriber;
      subscriber.on('error', (cause) => {
        this.#report(new ApiKeyError('STORE_UNAVAILABLE', 'Redis invalidation subscriber failed', { cause }));
      });
      // After a reconnect, messages sent while we were away are lost: forget everything cached.
      subscriber.on('ready', () => this.#onMessage(ALL_KEYS));
      await subscriber.connect();
      await subscriber.subscribe(this.#channel, (message) => this.#onMessage(message));
    } catch (cause) {
      this.#report(
        new ApiKeyError('STORE_UNAVAILABLE', 'Could not subscribe to API key invalidations on Redis', {
          cause,
        }),
      );
    }
  }

  /** Tells every instance to drop `keyId`; waits at most `timeoutMs` so a Redis outage never blocks a revoke. */
  async publish(keyId: string, timeoutMs = 1000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#redis.publish(this.#channel, keyId),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          timer.unref();
        }),
      ]);
    } catch (cause) {
      this.#report(
        new ApiKeyError(
          'STORE_UNAVAILABLE',
          `Could not publish the invalidation of key ${keyId}; other instances drop it within the cache TTL`,
          { cause },
        ),
      );
    } finally {
      clearTimeout(timer);
    }
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

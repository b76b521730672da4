import { performance } from 'node:perf_hooks';
import { HealthError } from '../errors';
import type { CheckOptions, HealthCheck, Threshold } from '../types';
import { checkOptions, roundMs, statusAbove, validateThreshold } from './thresholds';

/** A node-redis v5 client, typed structurally so redis stays an optional peer. */
export interface RedisPingable {
  ping(): Promise<unknown>;
  /** node-redis: false while disconnected or reconnecting; the check then fails at once. */
  readonly isReady?: boolean;
}

export interface RedisCheckOptions extends CheckOptions {
  /** @default 'redis' */
  name?: string;
  /** Thresholds on the PING round trip in milliseconds (above is worse). @default none */
  latencyMs?: Threshold;
}

/**
 * Checks Redis with PING, reporting the round trip as `redis:responseTime` in ms. A client that is
 * disconnected fails at once instead of queueing the PING until it reconnects. For a cluster, pass
 * `{ ping: () => cluster.sendCommand(undefined, true, ['PING']) }`.
 *
 * @example
 * ```ts
 * health.addCheck(redisCheck(redisClient, { timeoutMs: 500 }));
 * ```
 */
export function redisCheck(client: RedisPingable, options: RedisCheckOptions = {}): HealthCheck {
  if (typeof (client as Partial<RedisPingable>)?.ping !== 'function') {
    throw new HealthError(
      'INVALID_OPTIONS',
      'redisCheck needs a node-redis client (or anything with ping())',
    );
  }
  validateThreshold('latencyMs', options.latencyMs);
  return {
    componentType: 'datastore',
    ...checkOptions(options),
    name: options.name ?? 'redis',
    kind: 'dependency',
    measurement: 'responseTime',
    async run() {
      if (client.isReady === false) throw new Error('client is not connected');
      const started = performance.now();
      const reply = await client.ping();
      const ms = performance.now() - started;
      if (String(reply) !== 'PONG') throw new Error('PING did not answer PONG');
      const status = statusAbove(ms, options.latencyMs);
      return {
        status,
        observedValue: roundMs(ms),
        observedUnit: 'ms',
        ...(status === 'pass' ? {} : { output: `PING took ${Math.round(ms)} ms` }),
      };
    },
  };
}

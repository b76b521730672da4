/**
 * The Redis connection: one server (`PLAT_REDIS_URL`) or a Redis Cluster
 * (`PLAT_REDIS_CLUSTER_NODES`, comma-separated node URLs). The cache graph and API key revocations
 * work the same on both; only the readiness ping differs, since a cluster has no single server.
 */
import type { RedisPingable } from '@plat/health';
import type { Logger } from '@plat/logging';
import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis';
import type { ServiceConfig } from './config';

export interface RedisConnection {
  readonly client: RedisClientType | RedisClusterType;
  /** What the readiness check pings. */
  readonly pingable: RedisPingable;
  close(): Promise<void>;
}

/**
 * Connects to the configured Redis, or returns undefined when none is configured.
 *
 * @example
 * ```ts
 * const redis = await connectRedis(readConfig(), logger);
 * ```
 */
export async function connectRedis(
  config: ServiceConfig,
  logger: Logger,
): Promise<RedisConnection | undefined> {
  const onError = (error: unknown) => logger.warn('redis connection error', { error: String(error) });
  if (config.redisClusterNodes.length > 0) {
    const cluster: RedisClusterType = createCluster({
      rootNodes: config.redisClusterNodes.map((url) => ({ url })),
    });
    cluster.on('error', onError);
    await cluster.connect();
    return {
      client: cluster,
      pingable: { ping: () => cluster.sendCommand(undefined, true, ['PING']) },
      close: () => cluster.close(),
    };
  }
  if (config.redisUrl === undefined) return undefined;
  const client: RedisClientType = createClient({ url: config.redisUrl });
  client.on('error', onError);
  await client.connect();
  return { client, pingable: client, close: () => client.close() };
}

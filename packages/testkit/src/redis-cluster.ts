import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { freePort, type RedisServerHandle, startRedisServer } from './redis-server';

const run = promisify(execFile);

/** A throwaway Redis Cluster on loopback, owned by one test file (or one benchmark). */
export interface RedisClusterHandle {
  /** One handle per master, in start order; `stop()` one of them to test a failing shard. */
  readonly nodes: readonly RedisServerHandle[];
  /** For `createCluster({ rootNodes })`. */
  readonly rootNodes: ReadonlyArray<{ url: string }>;
  /** Stops every node and removes their files. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartRedisClusterOptions {
  /** Number of masters (no replicas). @default 3 */
  masters?: number;
}

/** `count` distinct free loopback ports (freePort alone may hand out the same port twice). */
async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function clusterReady(nodes: readonly RedisServerHandle[], masters: number): Promise<boolean> {
  for (const node of nodes) {
    const client = createClient({
      url: node.url,
      socket: { reconnectStrategy: false, connectTimeout: 1000 },
    });
    client.on('error', () => {});
    try {
      await client.connect();
      const info = String(await client.sendCommand(['CLUSTER', 'INFO']));
      const ok =
        info.includes('cluster_state:ok') &&
        info.includes('cluster_slots_ok:16384') &&
        info.includes(`cluster_known_nodes:${masters}`);
      if (!ok) return false;
    } catch {
      return false;
    } finally {
      if (client.isOpen) client.destroy();
    }
  }
  return true;
}

/**
 * Starts a Redis Cluster of `masters` redis-server processes on free loopback ports (cluster bus
 * ports chosen explicitly, so nothing else on the machine is touched), joins them with
 * `redis-cli --cluster create`, and waits until every node reports all 16384 slots served.
 * Needs Redis 7+ (`--cluster-port`).
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * const client = await createCluster({ rootNodes: [...cluster.rootNodes] }).connect();
 * afterAll(async () => { await client.close(); await cluster.stop(); });
 * ```
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'plat-redis-cluster-'));
  const nodes: RedisServerHandle[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports = await distinctPorts(masters * 2);
    for (let i = 0; i < masters; i++) {
      const port = ports[i * 2]!;
      nodes.push(
        await startRedisServer({
          port,
          dir,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-port',
            String(ports[i * 2 + 1]),
            '--cluster-node-timeout',
            '5000',
          ],
        }),
      );
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    const deadline = Date.now() + 20_000;
    while (!(await clusterReady(nodes, masters))) {
      if (Date.now() > deadline)
        throw new Error(`Redis Cluster of ${masters} masters did not become ready in 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, rootNodes: nodes.map((node) => ({ url: node.url })), stop };
}

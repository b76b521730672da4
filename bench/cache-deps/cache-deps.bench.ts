/**
 * @plat/cache-deps beside what a team would otherwise do, in one run against the local Redis:
 *
 * 1. Cascade invalidation of a 10,000-node graph (1 → 10 → 100 → 1,000 → 8,889, second parents)
 *    against a naive client-side walk (one round trip per key) and a single server-side Lua BFS (the
 *    lower bound on one Redis; it breaks Cluster rules and blocks Redis while it runs). Also on a
 *    private 3-master Redis Cluster when redis-server and redis-cli are installed.
 * 2. `get` hits against raw node-redis GET and bentocache (Redis only, and with its memory L1).
 * 3. What bentocache's `deleteByTag` costs afterwards: it deletes nothing, it stamps the tag and every
 *    later read of a tagged key pays for checking it.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Cache, createCache, createRedisStore } from '@plat/cache-deps';
import { hasCommand, startRedisCluster } from '@plat/testkit';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { createClient, createCluster, type RedisClientType } from 'redis';
import { type BenchRow, printTable } from '../harness';

const QUICK = process.env.PLAT_BENCH_QUICK === '1';
const REDIS_URL = process.env.PLAT_TEST_REDIS_URL ?? process.env.PLAT_BENCH_REDIS_URL;
const RUNS = QUICK ? 1 : 5;

interface GraphNode {
  key: string;
  dependsOn: string[];
}

/** The graph: 1 → 10 → 100 → 1,000 → 8,889; every node below level 1 has a second parent. */
function graph(): GraphNode[] {
  const nodes: GraphNode[] = [{ key: 'n0', dependsOn: [] }];
  let previous = ['n0'];
  while (nodes.length < 10_000) {
    const level: string[] = [];
    for (let i = 0; i < previous.length * 10 && nodes.length < 10_000; i++) {
      const key = `n${nodes.length}`;
      const first = previous[Math.floor(i / 10)]!;
      const second = previous[(Math.floor(i / 10) + 1 + (i % 7)) % previous.length]!;
      nodes.push({ key, dependsOn: first === second ? [first] : [first, second] });
      level.push(key);
    }
    previous = level;
  }
  return nodes;
}

const GRAPH = graph();
const VALUE = { id: 42, name: 'workflow 42', nodes: [1, 2, 3], owner: { id: 7, name: 'ada' } };

/**
 * A full garbage collection between setup and measurement, so that no system pays for the garbage
 * of rebuilding the graph (the usual way to reach `gc` without --expose-gc).
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function deleteByPrefix(client: RedisClientType, prefix: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    if (keys.length > 0) await client.unlink(keys);
  }
}

// ---------------------------------------------------------------------------------------------
// The two baselines share one plain data model: `<p>v:<key>` values and `<p>d:<key>` sets of
// dependents.
// ---------------------------------------------------------------------------------------------

async function buildPlain(client: RedisClientType, prefix: string): Promise<void> {
  for (let i = 0; i < GRAPH.length; i += 1000) {
    const multi = client.multi();
    for (const node of GRAPH.slice(i, i + 1000)) {
      multi.set(`${prefix}v:${node.key}`, JSON.stringify(VALUE));
      for (const parent of node.dependsOn) multi.sAdd(`${prefix}d:${parent}`, node.key);
    }
    await multi.execAsPipeline();
  }
}

/** What a team writes first: walk the graph from the client, one round trip per key. */
async function naiveWalk(client: RedisClientType, prefix: string, root: string): Promise<number> {
  const seen = new Set([root]);
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    const key = queue[i]!;
    const [dependents] = await Promise.all([
      client.sMembers(`${prefix}d:${key}`),
      client.del([`${prefix}v:${key}`, `${prefix}d:${key}`]),
    ]);
    for (const dependent of dependents) {
      if (!seen.has(dependent)) {
        seen.add(dependent);
        queue.push(dependent);
      }
    }
  }
  return queue.length;
}

/** The lower bound on one server: the whole walk in one script (keys built inside: not Cluster-safe). */
const LUA_BFS = `
local prefix = ARGV[1]
local queue, seen, head = {KEYS[1]}, {[KEYS[1]] = true}, 1
while head <= #queue do
  local key = queue[head]
  head = head + 1
  local dependents = redis.call('SMEMBERS', prefix .. 'd:' .. key)
  redis.call('DEL', prefix .. 'v:' .. key, prefix .. 'd:' .. key)
  for _, d in ipairs(dependents) do
    if not seen[d] then
      seen[d] = true
      queue[#queue + 1] = d
    end
  end
end
return #queue
`;

async function buildCache(cache: Cache): Promise<void> {
  for (let i = 0; i < GRAPH.length; i += 1000) {
    await Promise.all(
      GRAPH.slice(i, i + 1000).map((node) => cache.set(node.key, VALUE, { dependsOn: node.dependsOn })),
    );
  }
}

interface Contender {
  name: string;
  roundTrips: string;
  build(): Promise<void>;
  /** Runs one invalidation; answers how many keys it removed. */
  run(): Promise<number>;
  times: number[];
  removed: number;
}

/**
 * Runs every contender once per round, in turn, so that all of them meet the same load on a shared
 * machine; one unmeasured round first (JIT, script cache, connections). Garbage from rebuilding the
 * graph is collected before each measured call.
 */
async function race(contenders: Contender[]): Promise<void> {
  for (let round = -1; round < RUNS; round++) {
    for (const contender of contenders) {
      await contender.build();
      collectGarbage();
      const started = performance.now();
      contender.removed = await contender.run();
      if (round >= 0) contender.times.push(performance.now() - started);
    }
  }
}

async function cascadeTable(client: RedisClientType, prefix: string): Promise<void> {
  const plain = `${prefix}plain:`;
  const sha = String(await client.scriptLoad(LUA_BFS));
  const store = createRedisStore({ client, timeoutMs: 10_000 });
  const cache = createCache({ store, namespace: `${prefix}plat` });
  const contenders: Contender[] = [
    {
      name: 'naive client-side walk (node-redis)',
      roundTrips: '10,000',
      build: () => buildPlain(client, plain),
      run: () => naiveWalk(client, plain, 'n0'),
      times: [],
      removed: 0,
    },
    {
      name: 'single Lua BFS (lower bound, not Cluster-safe)',
      roundTrips: '1',
      build: () => buildPlain(client, plain),
      run: async () => Number(await client.evalSha(sha, { keys: ['n0'], arguments: [plain] })),
      times: [],
      removed: 0,
    },
    {
      name: '@plat/cache-deps invalidate (Redis)',
      roundTrips: '5 levels + 1 publish',
      build: () => buildCache(cache),
      run: async () => (await cache.invalidate('n0')).keys.length,
      times: [],
      removed: 0,
    },
  ];
  let stopCluster = async () => {};
  if (hasCommand('redis-server') && hasCommand('redis-cli')) {
    const handle = await startRedisCluster({ masters: 3 });
    const cluster = createCluster({ rootNodes: [...handle.rootNodes] });
    cluster.on('error', () => {});
    await cluster.connect();
    const clusterStore = createRedisStore({ client: cluster, timeoutMs: 10_000 });
    const onCluster = createCache({ store: clusterStore, namespace: 'plat' });
    contenders.push({
      name: '@plat/cache-deps invalidate (3-master Cluster)',
      roundTrips: '5 levels + 1 publish',
      build: () => buildCache(onCluster),
      run: async () => (await onCluster.invalidate('n0')).keys.length,
      times: [],
      removed: 0,
    });
    stopCluster = async () => {
      await onCluster.close();
      await clusterStore.close();
      await cluster.close();
      await handle.stop();
    };
  } else {
    console.log(
      '(3-master Cluster row skipped: redis-server and redis-cli are needed to start a private cluster)',
    );
  }
  try {
    await race(contenders);
  } finally {
    await cache.close();
    await store.close();
    await stopCluster();
  }

  const naive = median(contenders[0]!.times);
  const lua = median(contenders[1]!.times);
  const rows: BenchRow[] = contenders.map((contender) => {
    const ms = median(contender.times);
    return {
      system: contender.name,
      metrics: {
        'ms (median)': ms,
        'keys removed': contender.removed,
        'round trips': contender.roundTrips,
        'x faster than naive': `${(naive / ms).toFixed(1)}x`,
        'x the Lua BFS': `${(ms / lua).toFixed(2)}x`,
      },
    };
  });
  printTable(
    'cascade invalidation of a 10,000-node graph (median of runs, graph rebuilt before each)',
    rows,
    {
      ratioOf: 'ms (median)',
      higherIsBetter: false,
      note: `${RUNS} round(s), the systems taking turns. Graph: 1 → 10 → 100 → 1,000 → 8,889 with second parents. The Cluster row runs on a private cluster on this same machine (3 redis-server processes).`,
    },
  );
}

interface Sequential {
  name: string;
  fn: () => Promise<unknown>;
}

/**
 * Throughput of sequential awaited calls, the systems taking turns in short rounds, so that a load
 * that shifts during the run (the machine is shared) hits them alike; ops/s is the median of the
 * rounds. One unmeasured round first.
 */
async function takeTurns(
  title: string,
  systems: Sequential[],
  opsPerRound: number,
  note: string,
): Promise<void> {
  const rounds = QUICK ? 3 : 15;
  const ops = QUICK ? Math.max(50, Math.round(opsPerRound / 10)) : opsPerRound;
  const rates = systems.map((): number[] => []);
  for (let round = -1; round < rounds; round++) {
    for (let s = 0; s < systems.length; s++) {
      const { fn } = systems[s]!;
      const started = performance.now();
      for (let i = 0; i < ops; i++) await fn();
      if (round >= 0) rates[s]!.push((ops / (performance.now() - started)) * 1000);
    }
  }
  const rows: BenchRow[] = systems.map((system, s) => {
    const opsPerSecond = median(rates[s]!);
    return { system: system.name, metrics: { 'ops/s': opsPerSecond, 'mean µs': 1e6 / opsPerSecond } };
  });
  printTable(title, rows, {
    ratioOf: 'ops/s',
    note: `${note} Median of ${rounds} rounds of ${ops} calls, the systems taking turns.`,
  });
}

async function getTable(client: RedisClientType, prefix: string): Promise<void> {
  const key = `${prefix}raw:hot`;
  await client.set(key, JSON.stringify(VALUE));

  const store = createRedisStore({ client });
  const plat = createCache({ store, namespace: `${prefix}get` });
  await plat.set('hot', VALUE, { dependsOn: ['user:7', 'workflow:42'] });
  const platL1 = createCache({ store, namespace: `${prefix}get`, l1: true });

  const ioredis = new Redis(REDIS_URL!, { lazyConnect: false });
  const bentoRedis = new BentoCache({
    default: 'redis',
    stores: {
      redis: bentostore().useL2Layer(redisDriver({ connection: ioredis, prefix: `${prefix}bento` })),
    },
  });
  const bentoL1 = new BentoCache({
    default: 'tiered',
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxSize: '10mb' }))
        .useL2Layer(redisDriver({ connection: ioredis, prefix: `${prefix}bentol1` })),
    },
  });
  await bentoRedis.set({ key: 'hot', value: VALUE, ttl: '1h' });
  await bentoL1.set({ key: 'hot', value: VALUE, ttl: '1h' });
  // Let the L1 lease come up before measuring.
  for (let i = 0; i < 100; i++) {
    await platL1.get('hot');
    await new Promise((resolve) => setTimeout(resolve, 20));
    let layer: string | undefined;
    const stop = platL1.onRead((event) => {
      layer = event.layer;
    });
    await platL1.get('hot');
    stop();
    if (layer === 'l1') break;
  }

  await takeTurns(
    'get hit through Redis, sequential (ops/s)',
    [
      { name: 'raw node-redis GET (string, not decoded)', fn: () => client.get(key) },
      {
        name: 'raw node-redis GET + JSON.parse',
        fn: async () => JSON.parse((await client.get(key)) ?? 'null') as unknown,
      },
      { name: '@plat/cache-deps get (entry with 2 dependencies)', fn: () => plat.get('hot') },
      { name: 'bentocache get (Redis only)', fn: () => bentoRedis.get({ key: 'hot' }) },
    ],
    1000,
    'One await per call, the same ~100-byte JSON value.',
  );
  await takeTurns(
    'get hit from the in-process L1 (ops/s)',
    [
      { name: 'bentocache get (memory L1 + Redis)', fn: () => bentoL1.get({ key: 'hot' }) },
      { name: '@plat/cache-deps get (L1 + Redis)', fn: () => platL1.get('hot') },
    ],
    20_000,
    "@plat's L1 stays coherent with confirmations (invalidate waits for every instance); bentocache's bus does not wait.",
  );

  // What deleteByTag leaves behind: it stamps the tag, and reads of tagged keys check it.
  const tagged = QUICK ? 200 : 2000;
  await Promise.all(
    Array.from({ length: tagged }, (_, i) =>
      Promise.all([
        bentoRedis.set({ key: `t:${i}`, value: VALUE, ttl: '1h', tags: ['user:7'] }),
        plat.set(`t:${i}`, VALUE, { dependsOn: ['user:7'] }),
      ]),
    ),
  );
  let n = 0;
  await takeTurns(
    'get hit of a key with a tag / dependency (ops/s)',
    [
      { name: '@plat/cache-deps get (dependsOn user:7)', fn: () => plat.get(`t:${n++ % tagged}`) },
      {
        name: 'bentocache get (tags: [user:7], Redis only)',
        fn: () => bentoRedis.get({ key: `t:${n++ % tagged}` }),
      },
    ],
    500,
    'bentocache checks the tags of a tagged entry on every read.',
  );

  // Invalidate, then read every affected key once: the cost of an invalidation is the call plus
  // what the reads that follow pay for it.
  const readAll = async (get: (key: string) => Promise<unknown>) => {
    const started = performance.now();
    for (let i = 0; i < tagged; i++)
      if ((await get(`t:${i}`)) !== undefined) throw new Error(`t:${i} survived`);
    return performance.now() - started;
  };
  let started = performance.now();
  await plat.invalidate('user:7');
  const platCall = performance.now() - started;
  const platReads = await readAll((key) => plat.get(key));
  started = performance.now();
  await bentoRedis.deleteByTag({ tags: ['user:7'] });
  const bentoCall = performance.now() - started;
  const bentoReads = await readAll((key) => bentoRedis.get({ key }));
  printTable(
    `invalidate ${tagged} keys through one dependency / tag, then read each once (ms)`,
    [
      {
        system: "@plat/cache-deps invalidate('user:7')",
        metrics: { call: platCall, [`${tagged} reads`]: platReads, total: platCall + platReads },
      },
      {
        system: "bentocache deleteByTag({ tags: ['user:7'] })",
        metrics: { call: bentoCall, [`${tagged} reads`]: bentoReads, total: bentoCall + bentoReads },
      },
    ],
    {
      ratioOf: 'total',
      higherIsBetter: false,
      note: '@plat removes the entries in the call (one round trip per level); bentocache removes nothing and leaves each entry to be found stale by its next read.',
    },
  );

  await platL1.close();
  await plat.close();
  await store.close();
  await bentoRedis.disconnectAll();
  await bentoL1.disconnectAll();
  ioredis.disconnect();
}

export default async function run(): Promise<void> {
  if (REDIS_URL === undefined) {
    console.log(
      'cache-deps benchmarks skipped: set PLAT_TEST_REDIS_URL=redis://127.0.0.1:6379 (they need Redis).',
    );
    return;
  }
  const client = createClient({ url: REDIS_URL }) as RedisClientType;
  try {
    await client.connect();
  } catch (error) {
    console.log(`cache-deps benchmarks skipped: Redis at ${REDIS_URL} is unreachable (${String(error)}).`);
    return;
  }
  const prefix = `bench_cache_deps_${randomBytes(4).toString('hex')}:`;
  try {
    await getTable(client, prefix);
    await cascadeTable(client, prefix);
  } finally {
    await deleteByPrefix(client, prefix);
    await client.close();
  }
}

/**
 * The readiness probe under a probe storm: each system serves readiness with the same checks from
 * its own process while autocannon loads it from this one. Reports req/s, p50/p99 latency and how
 * often the checks really ran (the load a probe storm puts on the database).
 */
import { once } from 'node:events';
import autocannon from 'autocannon';
import { type BenchRow, printTable } from '../harness';
import { type ProbeServerProcess, startProbeServer } from './probe-process';

const quick = process.env.PLAT_BENCH_QUICK === '1';
/** Rounds of load per system, taken in turn so that noise from the shared machine hits every row alike. */
const ROUNDS = quick ? 1 : 5;
const ROUND_S = quick ? 1 : 2;
const CONNECTIONS = 32;

const SYSTEMS = [
  'terminus (express)',
  'terminus + 1 s cache (express)',
  'lightship (1 s poll)',
  '@plat/health healthProbes (express)',
  '@plat/health serveProbes (express server)',
  '@plat/health healthProbes (fastify)',
] as const;

type Running = ProbeServerProcess;

interface Stats {
  checkRuns: number;
  /** CPU time the server process has used (user + system), in microseconds. */
  cpuMicros: number;
}

async function stats(running: Running): Promise<Stats> {
  running.child.send('stats');
  const [message] = (await once(running.child, 'message')) as [Stats];
  return message;
}

function load(url: string, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Tally {
  requests: number;
  seconds: number;
  p50: number[];
  p99: number[];
  max: number;
  failed: number;
  checkRuns: number;
  cpuMicros: number;
}

async function measure(mode: string, title: string, note: string): Promise<void> {
  const running: Running[] = [];
  try {
    for (const system of SYSTEMS) running.push(await startProbeServer(system, mode, 'inherit'));
    // Warm-up: JIT, connection pools, first check runs.
    if (!quick) for (const server of running) await load(server.url, 1);
    const tallies: Tally[] = SYSTEMS.map(() => ({
      requests: 0,
      seconds: 0,
      p50: [],
      p99: [],
      max: 0,
      failed: 0,
      checkRuns: 0,
      cpuMicros: 0,
    }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, server] of running.entries()) {
        const tally = tallies[i]!;
        const before = await stats(server);
        const result = await load(server.url, ROUND_S);
        const after = await stats(server);
        tally.requests += result.requests.total;
        tally.seconds += ROUND_S;
        tally.p50.push(result.latency.p50);
        tally.p99.push(result.latency.p99);
        tally.max = Math.max(tally.max, result.latency.max);
        tally.failed += result.non2xx + result.errors + result.timeouts;
        tally.checkRuns += after.checkRuns - before.checkRuns;
        tally.cpuMicros += after.cpuMicros - before.cpuMicros;
      }
    }
    const rows: BenchRow[] = SYSTEMS.map((system, i) => {
      const tally = tallies[i]!;
      return {
        system,
        metrics: {
          'req/s': tally.requests / tally.seconds,
          'p50 ms': median(tally.p50),
          'p99 ms': median(tally.p99),
          'max ms': tally.max,
          // CPU the server spent per answer: steadier than latency on a machine shared with others.
          'server CPU µs/req': tally.cpuMicros / Math.max(1, tally.requests),
          'non-2xx': tally.failed,
          'check runs/s': tally.checkRuns / tally.seconds,
        },
      };
    });
    printTable(title, rows, { ratioOf: 'req/s', note });
  } finally {
    for (const server of running) server.child.kill('SIGKILL');
    await Promise.all(running.map((server) => once(server.child, 'exit').catch(() => {})));
  }
}

export default async function run(): Promise<void> {
  const setup =
    `autocannon, ${CONNECTIONS} connections, ${ROUNDS} round(s) of ${ROUND_S} s per system taken in turn` +
    `${quick ? ' (quick mode)' : ' after a 1 s warm-up'}; p50/p99 are medians over the rounds. ` +
    'Each server runs in its own process, the load generator in this one.';
  const services = Boolean(process.env.PLAT_TEST_PG_URL && process.env.PLAT_TEST_REDIS_URL);
  let measured = false;
  if (services) {
    try {
      await measure(
        'services',
        'readiness probe storm: PostgreSQL select 1 + Redis PING + heap',
        `${setup} Same checks everywhere: pg Pool select 1, node-redis PING, heap below 95%. @plat/health caches results for 1 s (its default).`,
      );
      measured = true;
    } catch (error) {
      console.log(`\n(readiness with PostgreSQL + Redis checks skipped: ${(error as Error).message})`);
    }
  } else {
    console.log(
      '\n(readiness with PostgreSQL + Redis checks skipped: set PLAT_TEST_PG_URL and PLAT_TEST_REDIS_URL to run it)',
    );
  }
  // Quick mode only checks that the benchmark runs: one table is enough.
  if (quick && measured) return;
  await measure(
    'local',
    'readiness probe storm: in-process checks (heap + a simulated 2 ms dependency)',
    `${setup} Same checks everywhere: heap below 95% and a 2 ms asynchronous dependency call.`,
  );
}

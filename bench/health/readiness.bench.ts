/**
 * The readiness probe under a probe storm: each system serves readiness with the same checks from
 * its own process while autocannon loads it from this one. Reports req/s, p50/p99 latency and how
 * often the checks really ran (the load a probe storm puts on the database).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { type BenchRow, printTable } from '../harness';

const quick = process.env.PLAT_BENCH_QUICK === '1';
const DURATION_S = quick ? 1 : 8;
const CONNECTIONS = 32;
const here = import.meta.dirname;

const SYSTEMS = [
  'terminus (express)',
  'terminus + 1 s cache (express)',
  'lightship (1 s poll)',
  '@plat/health healthProbes (express)',
  '@plat/health serveProbes (express server)',
  '@plat/health healthProbes (fastify)',
] as const;

interface Running {
  child: ChildProcess;
  url: string;
}

async function start(system: string, mode: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'probe-server.ts'), system, mode], {
    cwd: join(here, '..'),
    env: process.env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${system} server exited with ${code}`);
    }),
  ])) as [{ url: string }];
  return { child, url: message.url };
}

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

async function measure(mode: string, title: string, note: string): Promise<void> {
  const rows: BenchRow[] = [];
  for (const system of SYSTEMS) {
    const running = await start(system, mode);
    try {
      if (!quick) await load(running.url, 1); // warm-up: JIT, connection pools, first check runs
      const before = await stats(running);
      const result = await load(running.url, DURATION_S);
      const after = await stats(running);
      const runs = after.checkRuns - before.checkRuns;
      rows.push({
        system,
        metrics: {
          'req/s': result.requests.average,
          'p50 ms': result.latency.p50,
          'p99 ms': result.latency.p99,
          'max ms': result.latency.max,
          // CPU the server spent per answer: steadier than latency on a machine shared with others.
          'server CPU µs/req': (after.cpuMicros - before.cpuMicros) / Math.max(1, result.requests.total),
          'non-2xx': result.non2xx + result.errors + result.timeouts,
          'check runs/s': runs / DURATION_S,
        },
      });
    } finally {
      running.child.kill('SIGKILL');
      await once(running.child, 'exit').catch(() => {});
    }
  }
  printTable(title, rows, { ratioOf: 'req/s', note });
}

export default async function run(): Promise<void> {
  const setup = `autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per system${quick ? ' (quick mode)' : ' after a 1 s warm-up'}; each server in its own process, the load generator in this one, on a shared 2-core machine.`;
  const services = Boolean(process.env.PLAT_TEST_PG_URL && process.env.PLAT_TEST_REDIS_URL);
  if (services) {
    await measure(
      'services',
      'readiness probe storm: PostgreSQL select 1 + Redis PING + heap',
      `${setup} Same checks everywhere: pg Pool select 1, node-redis PING, heap below 95%. @plat/health caches results for 1 s (its default).`,
    );
  } else {
    console.log(
      '\n(readiness with PostgreSQL + Redis checks skipped: set PLAT_TEST_PG_URL and PLAT_TEST_REDIS_URL to run it)',
    );
  }
  // Quick mode only checks that the benchmark runs: one table is enough.
  if (quick && services) return;
  await measure(
    'local',
    'readiness probe storm: in-process checks (heap + a simulated 2 ms dependency)',
    `${setup} Same checks everywhere: heap below 95% and a 2 ms asynchronous dependency call.`,
  );
}

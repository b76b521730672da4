/**
 * @plat/db-perf beside what a team runs without it, in one run:
 *  1. overhead: plain kysely vs kysely instrumented by db-perf, on a primary-key lookup loop;
 *  2. an N+1 endpoint (1 + 50 queries) vs the same endpoint on a db-perf batch loader (2 queries);
 *  3. overload: twice the pool's capacity offered for a while, through an unprotected pool and
 *     through a db-perf bulkhead; latency of the requests that were served, and how many were shed.
 * Tables 1 and 2 run on SQLite (embedded) and on PostgreSQL when PLAT_TEST_PG_URL is set; table 3
 * needs PostgreSQL (it holds connections with pg_sleep).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isPlatError, runWithContext } from '@plat/core';
import { createBulkhead, createDbPerf, createLoader, unitOfWork } from '@plat/db-perf';
import Database from 'better-sqlite3';
import { type Dialect, Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { type BenchRow, printTable } from '../harness';

const QUICK = process.env.PLAT_BENCH_QUICK === '1';
const PG_URL = process.env.PLAT_TEST_PG_URL?.trim() || undefined;

interface BenchDb {
  users: { id: number; name: string; email: string };
  posts: { id: number; author_id: number; title: string };
}

interface Target {
  name: string;
  dialect(): Dialect;
  close(): Promise<void>;
}

export default async function run(): Promise<void> {
  const targets: Target[] = [sqliteTarget()];
  const pgTarget = PG_URL === undefined ? undefined : await postgresTarget(PG_URL);
  if (pgTarget !== undefined) targets.push(pgTarget);
  else console.log('\n(PostgreSQL tables skipped: set PLAT_TEST_PG_URL to run them)');
  try {
    for (const target of targets) await seed(target);
    for (const target of targets) await overhead(target);
    for (const target of targets) await nPlusOne(target);
    if (pgTarget !== undefined) await overload(pgTarget);
    else console.log('\n(overload table skipped: it needs PostgreSQL, set PLAT_TEST_PG_URL)');
  } finally {
    for (const target of targets) await target.close();
  }
}

function sqliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), 'plat-bench-db-perf-'));
  const file = join(dir, 'bench.db');
  return {
    name: 'SQLite',
    dialect: () => new SqliteDialect({ database: new Database(file) }),
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresTarget(url: string): Promise<Target> {
  const schema = `bench_db_perf_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema if not exists ${schema}`);
  await admin.end();
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return {
    name: 'PostgreSQL',
    dialect: () =>
      new PostgresDialect({ pool: new pg.Pool({ connectionString: scoped.toString(), max: 4 }) }),
    close: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}

async function seed(target: Target): Promise<void> {
  const db = new Kysely<BenchDb>({ dialect: target.dialect() });
  await db.schema.dropTable('posts').ifExists().execute();
  await db.schema.dropTable('users').ifExists().execute();
  await db.schema
    .createTable('users')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('posts')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('author_id', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .execute();
  const ids = Array.from({ length: 1000 }, (_, i) => i + 1);
  await db
    .insertInto('users')
    .values(ids.map((id) => ({ id, name: `user ${id}`, email: `user${id}@example.com` })))
    .execute();
  await db
    .insertInto('posts')
    .values(ids.map((id) => ({ id, author_id: ((id * 37) % 1000) + 1, title: `post ${id}` })))
    .execute();
  await db.destroy();
}

/** Table 1: what instrumentation costs per query. */
async function overhead(target: Target): Promise<void> {
  const plain = new Kysely<BenchDb>({ dialect: target.dialect() });
  const perf = createDbPerf({ logger: false });
  const instrumented = perf.attach(new Kysely<BenchDb>({ dialect: target.dialect(), log: perf.log }));
  let i = 0;
  const lookup = (db: Kysely<BenchDb>) =>
    db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', (i++ % 1000) + 1)
      .executeTakeFirst();
  const inRequest = (db: Kysely<BenchDb>) => () => runWithContext({ requestId: 'bench' }, () => lookup(db));
  const systems: Array<[string, () => Promise<unknown>]> = [
    ['plain kysely', () => lookup(plain)],
    ['kysely + @plat/db-perf', () => lookup(instrumented)],
    ['plain kysely, one request context per query', inRequest(plain)],
    ['kysely + @plat/db-perf, one request (unit of work) per query', inRequest(instrumented)],
  ];
  const { rows, overheads } = await interleaved(systems, {
    rounds: QUICK ? 3 : 40,
    batch: QUICK ? 20 : target.name === 'SQLite' ? 250 : 50,
  });
  printTable(`db-perf overhead on ${target.name}: primary-key lookup loop`, rows, {
    ratioOf: 'ops/s',
    note:
      'Every operation is one `select * from users where id = ?` awaited to completion. The systems alternate ' +
      'operation by operation; "overhead" compares median latencies with the row above (plain kysely, or plain ' +
      'kysely in a request context), and "CPU µs/op" is this process\'s CPU time per operation.',
  });
  console.log(
    `overhead of db-perf on ${target.name} (median latency): ${(100 * overheads[1]!).toFixed(1)} % per query, ` +
      `${(100 * overheads[3]!).toFixed(1)} % per query inside a request (target ≤ 5 %)`,
  );
  await plain.destroy();
  await instrumented.destroy();
}

/**
 * Runs the systems in alternation, one operation each in turn, timing every operation (wall clock
 * and this process's CPU). Bursts of load from other processes then hit all systems alike, and the
 * medians ignore them. The overhead of a system is measured against the row above it: the first
 * system for the second, the third for the fourth.
 */
async function interleaved(
  systems: ReadonlyArray<[string, () => Promise<unknown>]>,
  options: { rounds: number; batch: number },
): Promise<{ rows: BenchRow[]; overheads: number[] }> {
  const wall: number[][] = systems.map(() => []);
  const cpu = systems.map(() => 0);
  for (const [, fn] of systems) for (let k = 0; k < options.batch; k++) await fn(); // warm-up
  const ops = options.rounds * options.batch;
  for (let k = 0; k < ops; k++) {
    for (let s = 0; s < systems.length; s++) {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await systems[s]![1]();
      wall[s]!.push(performance.now() - started);
      const used = process.cpuUsage(cpuBefore);
      cpu[s]! += used.user + used.system;
    }
  }
  const medians = wall.map((values) => quantile(values, 0.5) * 1000);
  const overheads = medians.map((median, s) => (s % 2 === 1 ? median / medians[s - 1]! - 1 : 0));
  const rows = systems.map(([name], s) => ({
    system: name,
    metrics: {
      'ops/s': (ops * 1000) / wall[s]!.reduce((a, b) => a + b, 0),
      'median µs': medians[s]!,
      'p99 µs': quantile(wall[s]!, 0.99) * 1000,
      'CPU µs/op': cpu[s]! / ops,
      overhead: s % 2 === 1 ? `${(100 * overheads[s]!).toFixed(1)} %` : '',
    },
  }));
  return { rows, overheads };
}

/** Table 2: an N+1 endpoint and the same endpoint on a batch loader. */
async function nPlusOne(target: Target): Promise<void> {
  const perf = createDbPerf({ logger: false });
  const db = perf.attach(new Kysely<BenchDb>({ dialect: target.dialect(), log: perf.log }));
  const users = createLoader(db, { table: 'users', key: 'id', columns: ['name'] });
  let offset = 0;
  // Each request lists the next page of 50 posts.
  const page = () => {
    offset = (offset + 50) % 950;
    return db.selectFrom('posts').selectAll().orderBy('id').limit(50).offset(offset);
  };
  const endpoints = {
    'N+1 endpoint (1 + 50 queries)': async () => {
      const posts = await page().execute();
      const names: Array<string | undefined> = [];
      for (const post of posts) {
        const user = await db
          .selectFrom('users')
          .select('name')
          .where('id', '=', post.author_id)
          .executeTakeFirst();
        names.push(user?.name);
      }
      return names;
    },
    'same endpoint on createLoader': async () => {
      const posts = await page().execute();
      const authors = await Promise.all(posts.map((post) => users.load(post.author_id)));
      return authors.map((user) => user?.name);
    },
  };
  const requests = QUICK ? 20 : target.name === 'SQLite' ? 400 : 200;
  const rows: BenchRow[] = [];
  for (const [name, endpoint] of Object.entries(endpoints)) {
    for (let w = 0; w < 5; w++) await unitOfWork(endpoint); // warm-up
    perf.reset();
    const latencies: number[] = [];
    let nPlusOneReports = 0;
    for (let r = 0; r < requests; r++) {
      const started = performance.now();
      await unitOfWork(endpoint, {
        onSummary: (summary) => {
          nPlusOneReports += summary.nPlusOne.length;
        },
      });
      latencies.push(performance.now() - started);
    }
    const report = perf.report();
    rows.push({
      system: name,
      metrics: {
        'queries/request': report.totalCalls / requests,
        'mean ms': mean(latencies),
        'p99 ms': quantile(latencies, 0.99),
        'N+1 reports': nPlusOneReports,
      },
    });
  }
  printTable(`N+1 endpoint vs batch loader on ${target.name} (${requests} requests each, sequential)`, rows, {
    ratioOf: 'mean ms',
    higherIsBetter: false,
    note: 'Each request lists 50 posts and their authors inside a db-perf unit of work (as the adapters open per request).',
  });
  await db.destroy();
}

/** Table 3: twice the pool's capacity, unprotected and behind a bulkhead. */
async function overload(target: Target): Promise<void> {
  const poolSize = 4;
  const serviceMs = 20;
  const capacityPerSecond = (poolSize * 1000) / serviceMs;
  const offeredPerSecond = capacityPerSecond * 2;
  const durationMs = QUICK ? 500 : 3000;
  const db = new Kysely<BenchDb>({ dialect: target.dialect() });
  const work = () => sql`select pg_sleep(${serviceMs / 1000})`.execute(db);
  await Promise.all(Array.from({ length: poolSize }, () => work())); // open the pool's connections

  const bulkhead = createBulkhead({ concurrency: poolSize, maxQueue: poolSize * 2, queueTimeoutMs: 1000 });
  const systems: Array<[string, () => Promise<unknown>]> = [
    ['unprotected pool (queues in pg.Pool)', work],
    [`@plat/db-perf bulkhead (${poolSize} active, ${poolSize * 2} queued)`, () => bulkhead.run(work)],
  ];
  const rows: BenchRow[] = [];
  for (const [name, handle] of systems) {
    const outcome = await openLoop(handle, offeredPerSecond, durationMs);
    rows.push({
      system: name,
      metrics: {
        offered: outcome.offered,
        served: outcome.served.length,
        shed: outcome.shed,
        'p50 ms': quantile(outcome.served, 0.5),
        'p99 ms': quantile(outcome.served, 0.99),
        'max ms': Math.max(...outcome.served),
      },
    });
  }
  printTable(
    `Overload on PostgreSQL: ${offeredPerSecond} req/s offered to a pool of ${poolSize} serving ${capacityPerSecond} req/s, for ${durationMs} ms`,
    rows,
    {
      ratioOf: 'p99 ms',
      higherIsBetter: false,
      note:
        `Open-loop arrivals (latency counted from each request's scheduled start); every request holds a connection ${serviceMs} ms ` +
        '(pg_sleep). Without a bulkhead the pool queue grows for as long as the overload lasts, and so does latency; ' +
        'the bulkhead sheds what it cannot serve soon (OVERLOADED, 503 + Retry-After in the adapters) and keeps the served p99 bounded.',
    },
  );
  await db.destroy();
}

async function openLoop(
  handle: () => Promise<unknown>,
  perSecond: number,
  durationMs: number,
): Promise<{ offered: number; served: number[]; shed: number }> {
  const served: number[] = [];
  let shed = 0;
  const inFlight: Promise<void>[] = [];
  const tickMs = 10;
  const perTick = (perSecond * tickMs) / 1000;
  const start = performance.now();
  let offered = 0;
  for (let t = 0; t * tickMs < durationMs; t++) {
    const due = start + t * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (let k = 0; k < perTick; k++) {
      offered++;
      inFlight.push(
        handle().then(
          () => {
            served.push(performance.now() - due);
          },
          (error: unknown) => {
            if (isPlatError(error, 'OVERLOADED')) shed++;
            else throw error;
          },
        ),
      );
    }
  }
  await Promise.all(inFlight);
  return { offered, served, shed };
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

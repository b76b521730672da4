/**
 * @plat/event-store beside Emmett's PostgreSQL event store and plain `pg` multi-row inserts (the
 * physical reference: one INSERT, no checks), on the shared local PostgreSQL at its default
 * durability (synchronous_commit=on), with the embedded SQLite store beside them. One run:
 *
 * - append throughput, batches of 1 / 10 / 100 at concurrency 1 and 16 (each writer its own
 *   stream, with an exact expected version), with per-append p50 / p99;
 * - readStream of a 10,000-event stream; replay (fold) of the same stream;
 * - readAll paging over a 100,000-event log, pages of 1000, with the cost of the first and the
 *   last pages (index-backed paging keeps them equal);
 * - gap safety: 8 concurrent appenders and a reader paging the global log live; events the
 *   reader skipped or saw twice.
 *
 * Every system gets its own tables in a throw-away schema, dropped at the end. Each measurement runs
 * in rounds that alternate the systems' order (the machine is shared and its load drifts); a rate
 * is the median of a system's windows (one per round), with the best window beside it, so one
 * window disturbed by another process neither decides a ratio nor hides.
 *
 * Two plain `pg` rows: the issue's physical reference (one multi-row INSERT, no check; the ratios
 * are to it) and the same INSERT made conditional on the stream's current version, which is the
 * least a hand-written store does for an expected-version check.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { dumbo } from '@event-driven-io/dumbo';
import {
  getPostgreSQLEventStore,
  type PostgresEventStore,
  readMessagesBatch,
} from '@event-driven-io/emmett-postgresql';
import { createEventStore, type EventStore, type RecordedEvent } from '@plat/event-store';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { type BenchRow, printTable } from '../harness';

const QUICK = process.env.PLAT_BENCH_QUICK === '1';
const APPEND_MS = QUICK ? 150 : 2500;
const READ_MS = QUICK ? 150 : 2000;
const LOG_EVENTS = QUICK ? 5_000 : 100_000;
const STREAM_EVENTS = QUICK ? 1_000 : 10_000;
const GAP_MS = QUICK ? 300 : 4000;
const WARMUP_MS = QUICK ? 30 : 200;

interface Appender {
  name: string;
  /** Appends `count` events to `stream`, whose version before the append is `version`. */
  append(stream: string, version: number, count: number): Promise<void>;
}

interface Reader {
  name: string;
  readStream(stream: string): Promise<number>;
  replay(stream: string): Promise<number>;
  /** Reads one page of the global log after `cursor`; returns the events and the next cursor. */
  page(cursor: string | undefined, limit: number): Promise<{ ids: string[]; next: string; done: boolean }>;
}

const payload = (i: number) => ({
  type: 'ItemAdded',
  data: { sku: `sku-${i}`, quantity: i % 5, price: 9.99 },
});

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The median and the best of per-window rates. */
function medianAndBest(rates: readonly number[]): { median: number; best: number } {
  const sorted = [...rates].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), best: sorted[sorted.length - 1] ?? Number.NaN };
}

const ROUNDS = QUICK ? 1 : 5;

/** Every system in rounds, alternating the order, so the machine's drifting load hits all alike. */
function inRounds<T>(systems: readonly T[]): T[][] {
  return Array.from({ length: ROUNDS }, (_, r) => (r % 2 === 0 ? [...systems] : [...systems].reverse()));
}

interface AppendTally {
  /** events/s and appends/s of each window */
  eventRates: number[];
  appendRates: number[];
  latencies: number[];
}

async function appendSlice(
  system: Appender,
  batch: number,
  concurrency: number,
  tag: string,
  tally: AppendTally,
  ms = APPEND_MS / ROUNDS,
): Promise<void> {
  const started = performance.now();
  const deadline = started + ms;
  let appends = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      const stream = `${tag}-${w}-${randomUUID().slice(0, 8)}`;
      let version = 0;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await system.append(stream, version, batch);
        tally.latencies.push(performance.now() - t0);
        version += batch;
        appends += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  tally.eventRates.push((appends * batch) / seconds);
  tally.appendRates.push(appends / seconds);
}

async function appendCell(
  systems: readonly Appender[],
  batch: number,
  concurrency: number,
): Promise<BenchRow[]> {
  const tallies = new Map(
    systems.map((s) => [s, { eventRates: [], appendRates: [], latencies: [] } as AppendTally]),
  );
  // An untimed warm-up first: every system opens its connections for this concurrency outside the
  // windows (otherwise the first window of each system pays for them).
  for (const system of systems) {
    const scratch: AppendTally = { eventRates: [], appendRates: [], latencies: [] };
    await appendSlice(system, batch, concurrency, `w${batch}c${concurrency}`, scratch, WARMUP_MS);
  }
  for (const round of inRounds(systems)) {
    for (const system of round) {
      await appendSlice(system, batch, concurrency, `a${batch}c${concurrency}`, tallies.get(system)!);
    }
  }
  return systems.map((system) => {
    const tally = tallies.get(system)!;
    const events = medianAndBest(tally.eventRates);
    tally.latencies.sort((a, b) => a - b);
    return {
      system: system.name,
      metrics: {
        'events/s': events.median,
        'best window events/s': events.best,
        'appends/s': medianAndBest(tally.appendRates).median,
        'p50 ms': percentile(tally.latencies, 50),
        'p99 ms': percentile(tally.latencies, 99),
      },
    };
  });
}

interface ReadTally {
  samples: number[];
  /** operations/s and events/s of each window */
  opRates: number[];
  eventRates: number[];
}

async function timedSlice(fn: () => Promise<number>, tally: ReadTally): Promise<void> {
  const started = performance.now();
  let events = 0;
  let ops = 0;
  do {
    const t0 = performance.now();
    events += await fn();
    ops += 1;
    tally.samples.push(performance.now() - t0);
  } while (performance.now() - started < READ_MS / ROUNDS);
  const seconds = (performance.now() - started) / 1000;
  tally.opRates.push(ops / seconds);
  tally.eventRates.push(events / seconds);
}

async function timedRows(
  readers: readonly Reader[],
  fn: (reader: Reader) => Promise<number>,
  opsLabel: string,
): Promise<BenchRow[]> {
  const tallies = new Map(readers.map((r) => [r, { samples: [], opRates: [], eventRates: [] } as ReadTally]));
  for (const round of inRounds(readers))
    for (const reader of round) await timedSlice(() => fn(reader), tallies.get(reader)!);
  return readers.map((reader) => {
    const { samples, opRates, eventRates } = tallies.get(reader)!;
    samples.sort((a, b) => a - b);
    const events = medianAndBest(eventRates);
    return {
      system: reader.name,
      metrics: {
        [opsLabel]: medianAndBest(opRates).median,
        'events/s': events.median,
        'best window events/s': events.best,
        'p50 ms': percentile(samples, 50),
      },
    };
  });
}

interface PageTally {
  /** events/s of each pass */
  rates: number[];
  events: number;
  passes: number;
  first: number[];
  last: number[];
}

async function pagePass(reader: Reader, tally: PageTally): Promise<void> {
  const pageMs: number[] = [];
  let cursor: string | undefined;
  let pass = 0;
  const started = performance.now();
  for (;;) {
    const t0 = performance.now();
    const page = await reader.page(cursor, 1000);
    pageMs.push(performance.now() - t0);
    tally.events += page.ids.length;
    pass += page.ids.length;
    cursor = page.next;
    if (page.done) break;
  }
  tally.rates.push(pass / ((performance.now() - started) / 1000));
  tally.passes += 1;
  const full = pageMs.slice(0, -1);
  tally.first.push(...full.slice(0, 10));
  tally.last.push(...full.slice(-10));
}

async function pageRows(readers: readonly Reader[]): Promise<BenchRow[]> {
  const tallies = new Map(
    readers.map((r) => [r, { rates: [], events: 0, passes: 0, first: [], last: [] } as PageTally]),
  );
  for (const round of inRounds(readers))
    for (const reader of round) await pagePass(reader, tallies.get(reader)!);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return readers.map((reader) => {
    const tally = tallies.get(reader)!;
    const rates = medianAndBest(tally.rates);
    return {
      system: reader.name,
      metrics: {
        'events/s': rates.median,
        'best pass events/s': rates.best,
        'events per pass': tally.events / tally.passes,
        'first 10 pages ms/page': mean(tally.first),
        'last 10 pages ms/page': mean(tally.last),
      },
    };
  });
}

/** Appenders race while a reader pages the global log; then counts skipped and repeated events. */
async function gapCheck(
  name: string,
  append: (stream: string, version: number, ids: string[]) => Promise<void>,
  reader: Reader,
): Promise<BenchRow> {
  const committed = new Set<string>();
  const seen: string[] = [];
  let stop = false;
  let cursor: string | undefined;
  const readLoop = (async () => {
    for (;;) {
      const finishing = stop;
      const page = await reader.page(cursor, 500);
      seen.push(...page.ids);
      cursor = page.next;
      if (page.done) {
        if (finishing) return;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  })();
  const deadline = performance.now() + GAP_MS;
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      const stream = `gap-${w}-${randomUUID().slice(0, 8)}`;
      let version = 0;
      while (performance.now() < deadline) {
        const ids = Array.from({ length: 10 }, () => randomUUID());
        await append(stream, version, ids);
        version += ids.length;
        for (const id of ids) committed.add(id);
      }
    }),
  );
  stop = true;
  await readLoop;
  const distinct = new Set(seen.filter((id) => committed.has(id)));
  const mine = seen.filter((id) => committed.has(id));
  return {
    system: name,
    metrics: {
      committed: committed.size,
      delivered: mine.length,
      skipped: committed.size - distinct.size,
      duplicated: mine.length - distinct.size,
    },
  };
}

function sqliteStore(dir: string): { store: EventStore; db: Kysely<unknown> } {
  const database = new Database(join(dir, 'events.db'));
  database.pragma('journal_mode = WAL');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
  return { store: createEventStore({ db }), db };
}

function platAppender(name: string, store: EventStore): Appender {
  return {
    name,
    append: async (stream, version, count) => {
      await store.append(
        stream,
        Array.from({ length: count }, (_, i) => payload(version + i)),
        { expectedVersion: version === 0 ? 'no_stream' : version },
      );
    },
  };
}

function platReader(name: string, store: EventStore): Reader {
  const evolve = (state: { count: number; total: number }, event: RecordedEvent) => ({
    count: state.count + 1,
    total: state.total + (event.data as { price: number }).price,
  });
  return {
    name,
    readStream: async (stream) => (await store.readStream(stream)).events.length,
    replay: async (stream) =>
      (await store.aggregateStream(stream, { evolve, initialState: () => ({ count: 0, total: 0 }) })).state
        .count,
    page: async (cursor, limit) => {
      const page = await store.readAll({ limit, ...(cursor === undefined ? {} : { after: cursor }) });
      return { ids: page.events.map((e) => e.id), next: page.next, done: page.caughtUp };
    },
  };
}

async function fill(system: Appender, stream: string, total: number): Promise<void> {
  for (let version = 0; version < total; version += 1000) {
    await system.append(stream, version, Math.min(1000, total - version));
  }
}

async function fillLog(system: Appender, total: number): Promise<void> {
  const streams = 100;
  const per = Math.ceil(total / streams);
  for (let s = 0; s < streams; s += 4) {
    await Promise.all(
      Array.from({ length: 4 }, (_, k) => fill(system, `log-${s + k}`, Math.min(per, total - (s + k) * per))),
    );
  }
}

export default async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'plat-bench-es-'));
  const sqlite = sqliteStore(dir);
  await sqlite.store.migrate();
  const url = process.env.PLAT_TEST_PG_URL;
  if (url === undefined || url === '') {
    console.log(
      '\n(PostgreSQL tables skipped: set PLAT_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test)',
    );
  }
  const schema = `bench_es_${process.pid}_${Date.now().toString(36)}`;
  const admin = url ? new pg.Client({ connectionString: url }) : undefined;
  let cleanup: Array<() => Promise<unknown>> = [];
  try {
    let appenders: Appender[] = [];
    let readers: Reader[] = [];
    let emmettAppend: ((stream: string, version: number, ids: string[]) => Promise<void>) | undefined;
    let platAppend: ((stream: string, version: number, ids: string[]) => Promise<void>) | undefined;
    let plainAppend: ((stream: string, version: number, ids: string[]) => Promise<void>) | undefined;
    let plainChecked: Appender | undefined;
    if (admin !== undefined && url) {
      await admin.connect();
      const { rows } = await admin.query<{ synchronous_commit: string }>('show synchronous_commit');
      console.log(`\nPostgreSQL synchronous_commit=${rows[0]?.synchronous_commit}; schema ${schema}`);
      await admin.query(`create schema "${schema}"`);
      cleanup.push(() => admin.query(`drop schema if exists "${schema}" cascade`));
      const scoped = new URL(url);
      scoped.searchParams.set('options', `-c search_path=${schema}`);
      const scopedUrl = scoped.toString();

      // Plain pg: the physical reference.
      const plainPool = new pg.Pool({ connectionString: scopedUrl, max: 20 });
      cleanup.unshift(() => plainPool.end());
      await plainPool.query(`create table plain_events (
        position bigserial primary key, stream_id text not null, version bigint not null, event_id uuid not null,
        type text not null, data jsonb not null, metadata jsonb not null, recorded_at timestamptz not null default now(),
        unique (stream_id, version))`);
      const plainInsert = async (stream: string, version: number, ids: string[]) => {
        const values: unknown[] = [];
        const tuples = ids.map((id, i) => {
          const p = values.length;
          const event = payload(version + i);
          values.push(stream, version + i + 1, id, event.type, JSON.stringify(event.data), '{}');
          return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6})`;
        });
        await plainPool.query(
          `insert into plain_events (stream_id, version, event_id, type, data, metadata) values ${tuples.join(',')}`,
          values,
        );
      };
      plainAppend = plainInsert;
      const plain: Appender = {
        name: 'plain pg multi-row INSERT (reference)',
        append: (stream, version, count) =>
          plainInsert(
            stream,
            version,
            Array.from({ length: count }, () => randomUUID()),
          ),
      };
      // The same INSERT, written only when the stream is at the expected version (the unique
      // (stream_id, version) index settles races between two writers at the same version).
      await plainPool.query(`create table plain_checked_events (
        position bigserial primary key, stream_id text not null, version bigint not null, event_id uuid not null,
        type text not null, data jsonb not null, metadata jsonb not null, recorded_at timestamptz not null default now(),
        unique (stream_id, version))`);
      plainChecked = {
        name: 'plain pg INSERT with expected-version check',
        append: async (stream, version, count) => {
          const values: unknown[] = [stream, version];
          const tuples = Array.from({ length: count }, (_, i) => {
            const p = values.length;
            const event = payload(version + i);
            values.push(version + i + 1, randomUUID(), event.type, JSON.stringify(event.data), '{}');
            return `($1::text, $${p + 1}::bigint, $${p + 2}::uuid, $${p + 3}::text, $${p + 4}::jsonb, $${p + 5}::jsonb)`;
          });
          const { rowCount } = await plainPool.query(
            `insert into plain_checked_events (stream_id, version, event_id, type, data, metadata)
             select * from (values ${tuples.join(',')}) as v
             where coalesce((select max(version) from plain_checked_events where stream_id = $1), 0) = $2::bigint`,
            values,
          );
          if (rowCount !== count) throw new Error(`${stream} is not at version ${version}`);
        },
      };
      const plainReader: Reader = {
        name: 'plain pg (keyset on position)',
        readStream: async (stream) =>
          (
            await plainPool.query(
              'select position, stream_id, version, event_id, type, data, metadata, recorded_at from plain_events where stream_id = $1 order by version',
              [stream],
            )
          ).rowCount ?? 0,
        replay: async (stream) => {
          const { rows } = await plainPool.query<{ data: { price: number } }>(
            'select position, stream_id, version, event_id, type, data, metadata, recorded_at from plain_events where stream_id = $1 order by version',
            [stream],
          );
          let state = { count: 0, total: 0 };
          for (const row of rows) state = { count: state.count + 1, total: state.total + row.data.price };
          return state.count;
        },
        page: async (cursor, limit) => {
          const { rows } = await plainPool.query<{ position: string; event_id: string }>(
            'select position, stream_id, version, event_id, type, data, metadata, recorded_at from plain_events where position > $1 order by position limit $2',
            [cursor ?? '0', limit],
          );
          return {
            ids: rows.map((r) => r.event_id),
            next: rows.at(-1)?.position ?? cursor ?? '0',
            done: rows.length < limit,
          };
        },
      };

      // Emmett.
      const emmettPool = new pg.Pool({ connectionString: scopedUrl, max: 20 });
      const emmett: PostgresEventStore = getPostgreSQLEventStore(scopedUrl, {
        connectionOptions: { pooled: true, pool: emmettPool },
      });
      const emmettExec = dumbo({ connectionString: scopedUrl });
      cleanup.unshift(
        () => emmett.close(),
        () => emmettExec.close(),
        () => emmettPool.end(),
      );
      await emmett.schema.migrate();
      const emmettAppender: Appender = {
        name: 'Emmett (emmett-postgresql 0.42)',
        append: async (stream, version, count) => {
          await emmett.appendToStream(
            stream,
            Array.from({ length: count }, (_, i) => payload(version + i)),
            { expectedStreamVersion: BigInt(version) },
          );
        },
      };
      emmettAppend = async (stream, version, ids) => {
        await emmett.appendToStream(
          stream,
          ids.map((id, i) => ({ ...payload(version + i), metadata: { messageId: id } })),
          { expectedStreamVersion: BigInt(version) },
        );
      };
      const emmettReader: Reader = {
        name: 'Emmett (emmett-postgresql 0.42)',
        readStream: async (stream) => (await emmett.readStream(stream)).events.length,
        replay: async (stream) =>
          (
            await emmett.aggregateStream(stream, {
              evolve: (
                state: { count: number; total: number },
                event: { data: Record<string, unknown> },
              ) => ({
                count: state.count + 1,
                total: state.total + Number(event.data.price),
              }),
              initialState: () => ({ count: 0, total: 0 }),
            })
          ).state.count,
        page: async (cursor, limit) => {
          const { messages } = await readMessagesBatch(emmettExec.execute, {
            after: BigInt(cursor ?? '0'),
            batchSize: limit,
          });
          const last = messages.at(-1)?.metadata.globalPosition;
          return {
            ids: messages.map((m) => String((m.metadata as { messageId?: string }).messageId)),
            next: last === undefined ? (cursor ?? '0') : String(last),
            done: messages.length < limit,
          };
        },
      };

      // @plat/event-store on PostgreSQL.
      const platPool = new pg.Pool({ connectionString: scopedUrl, max: 20 });
      const platDb = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: platPool }) });
      const plat = createEventStore({ db: platDb, tablePrefix: 'plat_' });
      cleanup.unshift(
        () => plat.close(),
        () => platDb.destroy(),
      );
      await plat.migrate();
      platAppend = async (stream, version, ids) => {
        await plat.append(
          stream,
          ids.map((id, i) => ({ ...payload(version + i), id })),
          { expectedVersion: version === 0 ? 'no_stream' : version },
        );
      };
      appenders = [plain, emmettAppender, platAppender('@plat/event-store (PostgreSQL)', plat)];
      readers = [plainReader, emmettReader, platReader('@plat/event-store (PostgreSQL)', plat)];
    }
    appenders.push(platAppender('@plat/event-store (SQLite, WAL)', sqlite.store));
    readers.push(platReader('@plat/event-store (SQLite, WAL)', sqlite.store));

    // Reads first, on logs of exactly LOG_EVENTS events (the 10,000-event stream is part of it).
    for (const appender of appenders) {
      await fill(appender, 'big-stream', STREAM_EVENTS);
      await fillLog(appender, LOG_EVENTS - STREAM_EVENTS);
    }
    // Write-only: it joins the append tables, after the logs for the read tables are filled.
    if (plainChecked !== undefined) appenders.splice(1, 0, plainChecked);
    const streamRows = await timedRows(readers, (reader) => reader.readStream('big-stream'), 'reads/s');
    const replayRows = await timedRows(readers, (reader) => reader.replay('big-stream'), 'replays/s');
    const logRows = await pageRows(readers);
    printTable(`readStream of a ${STREAM_EVENTS.toLocaleString('en-US')}-event stream`, streamRows, {
      ratioOf: 'events/s',
      note: 'Whole stream per read, rows mapped to event objects (plain pg: raw rows).',
    });
    printTable(`replay (fold) of a ${STREAM_EVENTS.toLocaleString('en-US')}-event stream`, replayRows, {
      ratioOf: 'events/s',
      note: 'plat: aggregateStream without snapshots; Emmett: aggregateStream; plain pg: read + reduce.',
    });
    printTable(
      `readAll paging over a ${LOG_EVENTS.toLocaleString('en-US')}-event log, pages of 1000`,
      logRows,
      {
        ratioOf: 'events/s',
        note:
          'Equal first/last page costs mean index-backed paging. plat pages (transaction id, position) below the ' +
          'oldest running transaction; plain pg pages by position (not gap-safe, see the last table).',
      },
    );

    for (const batch of [1, 10, 100]) {
      for (const concurrency of [1, 16]) {
        const rows = await appendCell(appenders, batch, concurrency);
        printTable(`append: batches of ${batch}, concurrency ${concurrency}`, rows, {
          ratioOf: 'events/s',
          note:
            batch === 1 && concurrency === 1
              ? 'Each writer appends to its own stream with an exact expected version (the reference: no check). ' +
                'events/s is the median of five windows, best window beside it; p50/p99 are per append call; ' +
                'this cell is the single-event append latency.'
              : undefined,
        } as { ratioOf: string; note?: string });
      }
    }

    if (platAppend !== undefined && emmettAppend !== undefined && plainAppend !== undefined) {
      const platPg = readers.find((r) => r.name.includes('plat') && r.name.includes('PostgreSQL'))!;
      const emmettReader = readers.find((r) => r.name.startsWith('Emmett'))!;
      const plainReader = readers.find((r) => r.name.startsWith('plain'))!;
      const gapRows: BenchRow[] = [];
      gapRows.push(await gapCheck(plainReader.name, plainAppend, plainReader));
      gapRows.push(await gapCheck(emmettReader.name, emmettAppend, emmettReader));
      gapRows.push(await gapCheck(platPg.name, platAppend, platPg));
      printTable(
        'gap safety: 8 concurrent appenders (batches of 10), one reader paging the live global log',
        gapRows,
        {
          ratioOf: 'skipped',
          higherIsBetter: false,
          note: 'skipped = committed events the reader never saw; duplicated = seen more than once. Zero is the only right answer.',
        },
      );
    }
  } finally {
    for (const step of cleanup) await step().catch(() => undefined);
    cleanup = [];
    await admin?.end().catch(() => undefined);
    await sqlite.store.close();
    await sqlite.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

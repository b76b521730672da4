/**
 * The global-ordering guarantee on PostgreSQL: 32 concurrent writers append 100,000 events across a
 * few hot streams, some transactions roll back on purpose, some hold their commit open; a live
 * subscriber (on its own store and pool, woken by LISTEN/NOTIFY as another process would be) must
 * see every committed event exactly once, each stream in version order, and in the same order as
 * a reader paging the log afterwards.
 */
import { randomUUID } from 'node:crypto';
import { isPlatError } from '@plat/core';
import { describeWithPostgres, seededRandom } from '@plat/testkit';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { compareCursors, createEventStore, type EventStore, type RecordedEvent } from '../src';

const TOTAL = 100_000;
const WRITERS = 32;
const STREAMS = ['hot-a', 'hot-b', 'hot-c', 'hot-d', 'hot-e', 'hot-f'];

class Rollback extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithPostgres('global log under 32 concurrent writers [postgres]', (pgdb) => {
  let writerPool: pg.Pool;
  let readerPool: pg.Pool;
  let listenPool: pg.Pool;
  let writerDb: Kysely<unknown>;
  let readerDb: Kysely<unknown>;
  let writers: EventStore;
  let reader: EventStore;

  beforeAll(async () => {
    writerPool = new pg.Pool({ connectionString: pgdb.url, max: WRITERS + 2 });
    readerPool = new pg.Pool({ connectionString: pgdb.url, max: 3 });
    listenPool = new pg.Pool({ connectionString: pgdb.url, max: 1 });
    writerDb = new Kysely({ dialect: new PostgresDialect({ pool: writerPool }) });
    readerDb = new Kysely({ dialect: new PostgresDialect({ pool: readerPool }) });
    writers = createEventStore({ db: writerDb });
    reader = createEventStore({ db: readerDb, listen: listenPool });
    await writers.migrate();
  });

  afterAll(async () => {
    await reader?.close();
    await writers?.close();
    await readerDb?.destroy();
    await writerDb?.destroy();
    await listenPool?.end();
  });

  it('loses, duplicates and reorders nothing', async () => {
    const delivered: RecordedEvent[] = [];
    const problems: string[] = [];
    const lastVersion = new Map<string, number>();
    let lastCheckpoint = '0:0';
    const subscription = reader.subscribe('live-reader', {
      batchSize: 1000,
      pollIntervalMs: 250,
      handler: (event) => {
        if (problems.length < 20) {
          if (compareCursors(lastCheckpoint, event.checkpoint) >= 0)
            problems.push(`checkpoint went back: ${lastCheckpoint} then ${event.checkpoint}`);
          const previous = lastVersion.get(event.streamId) ?? 0;
          if (event.version !== previous + 1)
            problems.push(`${event.streamId}: version ${event.version} after ${previous}`);
        }
        lastCheckpoint = event.checkpoint;
        lastVersion.set(event.streamId, event.version);
        delivered.push(event);
      },
    });

    let budget = TOTAL;
    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    const counts = { transactions: 0, rollbacks: 0, conflicts: 0, wrongVersion: 0, appends: 0 };

    async function writer(index: number): Promise<void> {
      const rand = seededRandom(index + 1);
      const pick = () => STREAMS[Math.floor(rand() * STREAMS.length)]!;
      while (budget > 0) {
        const size = Math.min(budget, 1 + Math.floor(rand() * 12));
        budget -= size;
        const events = Array.from({ length: size }, (_, i) => ({
          id: randomUUID(),
          type: i % 3 === 0 ? 'Deposited' : 'Withdrawn',
          data: { writer: index, i },
        }));
        const ids = events.map((e) => e.id);
        const mode = rand();
        try {
          if (mode < 0.4) {
            // A transaction over one or two streams (locked in a fixed order), sometimes rolled
            // back, sometimes holding its commit open while younger transactions commit.
            const [first, second] = [pick(), pick()].sort();
            const split = second !== first && size > 1 ? Math.ceil(size / 2) : size;
            const rollback = rand() < 0.12;
            const linger = rand() < 0.15 ? 1 + Math.floor(rand() * 3) : 0;
            // Half of them lock their streams up front (no conflicts possible), half do not.
            const lockFirst = rand() < 0.5;
            await writers.transaction(async (tx) => {
              if (lockFirst) await tx.lockStreams([first!, second!]);
              await tx.append(first!, events.slice(0, split));
              if (split < size) await tx.append(second!, events.slice(split));
              if (linger > 0) await sleep(linger);
              if (rollback) throw new Rollback();
            });
            counts.transactions += 1;
          } else if (mode < 0.7) {
            await writers.append(pick(), events, { expectedVersion: 'any' });
            counts.appends += 1;
          } else {
            // Optimistic: read the version, then append expecting it.
            const stream = pick();
            const { version } = await writers.readStream(stream, { backwards: true, maxCount: 1 });
            await writers.append(stream, events, { expectedVersion: version === 0 ? 'no_stream' : version });
            counts.appends += 1;
          }
          for (const id of ids) committed.add(id);
        } catch (error) {
          budget += size;
          if (error instanceof Rollback) {
            counts.rollbacks += 1;
            for (const id of ids) rolledBack.add(id);
          } else if (isPlatError(error, 'TRANSACTION_CONFLICT')) counts.conflicts += 1;
          else if (isPlatError(error, 'WRONG_EXPECTED_VERSION')) counts.wrongVersion += 1;
          else throw error;
        }
      }
    }

    await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(i)));
    expect(committed.size).toBe(TOTAL);
    expect(counts.rollbacks).toBeGreaterThan(50);

    // Bounded wait for the subscriber (generous: the machine is shared).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      subscription.caughtUp(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`subscriber did not catch up: ${delivered.length} of ${TOTAL}`)),
          240_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    await subscription.stop();

    expect(problems).toEqual([]);
    expect(delivered).toHaveLength(TOTAL);
    const deliveredIds = new Set(delivered.map((e) => e.id));
    expect(deliveredIds.size).toBe(TOTAL);
    for (const id of committed)
      if (!deliveredIds.has(id)) throw new Error(`committed event ${id} never delivered`);
    for (const id of rolledBack) expect(deliveredIds.has(id)).toBe(false);

    // Streams are contiguous 1..n in the table and the stream rows agree.
    const { rows } = await sql<{ stream_id: string; n: string; lo: string; hi: string; version: string }>`
      select e.stream_id, count(*) as n, min(e.version) as lo, max(e.version) as hi, s.version
      from ${sql.id(writers.tables.events)} e join ${sql.id(writers.tables.streams)} s using (stream_id)
      group by e.stream_id, s.version`.execute(writerDb);
    expect(rows.reduce((sum, r) => sum + Number(r.n), 0)).toBe(TOTAL);
    for (const row of rows) {
      expect([Number(row.lo), Number(row.hi), Number(row.version)]).toEqual([
        1,
        Number(row.n),
        Number(row.n),
      ]);
    }

    // A reader paging the log afterwards sees exactly the order the live subscriber saw.
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await reader.readAll({ limit: 5000, ...(after === undefined ? {} : { after }) });
      for (const event of page.events) paged.push(event.id);
      after = page.next;
      if (page.caughtUp) break;
    }
    expect(paged).toEqual(delivered.map((e) => e.id));
    // Reported for the record: how much contention the run produced.
    process.stdout.write(`[concurrency] ${JSON.stringify(counts)}\n`);
  }, 600_000);
});

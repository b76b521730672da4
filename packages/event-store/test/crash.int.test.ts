/**
 * A subscriber process killed with SIGKILL in the middle of a batch resumes from its durable
 * checkpoint: nothing is lost, and only the unfinished batch is delivered again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithPostgres } from '@plat/testkit';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { createEventStore, type EventStore, type RecordedEvent } from '../src';

const EVENTS = 400;
const BATCH = 50;
const KILL_AFTER = 130; // two batches checkpointed, the third half done

const packageDir = join(__dirname, '..');
const fixture = join(__dirname, 'fixtures', 'crash-subscriber.ts');

function handled(file: string): string[] {
  if (!existsSync(file)) return [];
  // A line cut short by the kill has no position yet: it was not handled.
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => /^[0-9a-f-]{36} \d+$/.test(line))
    .map((line) => line.slice(0, 36));
}

function startChild(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: packageDir,
    env: { ...process.env, ...env, BATCH: String(BATCH) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => process.stderr.write(`[child] ${chunk}`));
  return child;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function crashSuite(
  dialect: 'sqlite' | 'postgres',
  setup: () => Promise<{ store: EventStore; target: string; teardown: () => Promise<void> }>,
) {
  let dir: string;
  let store: EventStore;
  let target: string;
  let teardown: () => Promise<void>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plat-crash-'));
    ({ store, target, teardown } = await setup());
    await store.migrate();
    for (let i = 0; i < EVENTS; i += 20) {
      await store.append(
        `order-${i % 7}`,
        Array.from({ length: 20 }, (_, j) => ({ type: 'Placed', data: { n: i + j } })),
      );
    }
  });
  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await teardown?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes from the checkpoint after SIGKILL mid-batch without losing events', async () => {
    const all: RecordedEvent[] = [];
    for (let after: string | undefined; ; ) {
      const page = await store.readAll({ limit: 1000, ...(after === undefined ? {} : { after }) });
      all.push(...page.events);
      after = page.next;
      if (page.caughtUp) break;
    }
    expect(all).toHaveLength(EVENTS);
    const order = all.map((e) => e.id);

    const first = join(dir, 'first.log');
    const victim = startChild({ DIALECT: dialect, TARGET: target, OUT: first });
    children.push(victim);
    await waitFor(() => handled(first).length >= KILL_AFTER, 'the first subscriber to handle 130 events');
    victim.kill('SIGKILL');
    await once(victim, 'exit');
    expect(victim.signalCode).toBe('SIGKILL');
    const before = handled(first);
    expect(before.length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(before.length).toBeLessThan(EVENTS);

    const checkpoint = await store.checkpoint('crash-test');
    expect(checkpoint).toBeDefined();
    const done = all.findIndex((e) => e.checkpoint === checkpoint) + 1;
    // The checkpoint sits on a batch boundary the first process finished, before where it died.
    expect(done % BATCH).toBe(0);
    expect(done).toBeGreaterThanOrEqual(2 * BATCH);
    expect(done).toBeLessThanOrEqual(before.length);

    const second = join(dir, 'second.log');
    const survivor = startChild({ DIALECT: dialect, TARGET: target, OUT: second, EXIT_WHEN_CAUGHT_UP: '1' });
    children.push(survivor);
    const [code] = (await once(survivor, 'exit')) as [number | null];
    expect(code).toBe(0);
    const after = handled(second);

    // Resumed exactly after the checkpoint, in order, through the end: nothing lost.
    expect(after).toEqual(order.slice(done));
    expect(new Set([...before, ...after]).size).toBe(EVENTS);
    // Only the batch in flight at the kill was delivered twice (at-least-once).
    const twice = before.filter((id) => after.includes(id));
    expect(twice).toEqual(order.slice(done, before.length));
    expect(twice.length).toBeLessThan(BATCH);
  }, 120_000);
}

describe('subscriber crash [sqlite]', () => {
  crashSuite('sqlite', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'plat-crash-db-')), 'events.db');
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new Database(file, { timeout: 10_000 }) }),
    });
    const store = createEventStore({ db });
    return {
      store,
      target: file,
      teardown: async () => {
        await store.close();
        await db.destroy();
        rmSync(join(file, '..'), { recursive: true, force: true });
      },
    };
  });
});

describeWithPostgres('subscriber crash [postgres]', (pgdb) => {
  crashSuite('postgres', async () => {
    const db = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: pgdb.url }) }),
    });
    const store = createEventStore({ db });
    return {
      store,
      target: pgdb.url,
      teardown: async () => {
        await store.close();
        await db.destroy();
      },
    };
  });
});

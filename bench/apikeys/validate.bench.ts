/**
 * API key validation: @plat/apikeys beside the naive approach common API key libraries take
 * (hash the presented key with SHA-256 and look the hash up in the database, on every call), on a
 * hot key set and on cache misses, against PostgreSQL (PLAT_TEST_PG_URL) and embedded SQLite.
 */
import * as crypto from 'node:crypto';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { type ApiKeyManager, createApiKeyManager, createKyselyKeyStore } from '@plat/apikeys';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { type BenchRow, printTable } from '../harness';

const quick = process.env.PLAT_BENCH_QUICK === '1';
// crypto.hash (Node 20.12+) is what the cache digest uses; createHash is the fallback.
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string) => string }).hash;
const sha256 = (data: string) =>
  oneShot === undefined ? createHash('sha256').update(data).digest('hex') : oneShot('sha256', data);
const LOOP_MS = quick ? 100 : 2000;
const HOT_KEYS = quick ? 50 : 1000;
const PEPPERS = [{ id: 'bench', secret: randomBytes(32).toString('base64') }];

/**
 * Sustained rate of `fn` run back to back (awaited when it returns a promise) by `concurrency`
 * loops for `timeMs`. Unlike a per-call timer this adds no measuring cost to each call, which
 * matters when a call takes about a microsecond.
 */
async function loopRate(fn: () => unknown, timeMs: number, concurrency = 1): Promise<BenchRow['metrics']> {
  const runFor = async (ms: number): Promise<number> => {
    const end = performance.now() + ms;
    let calls = 0;
    let batch = 1;
    const worker = async () => {
      while (performance.now() < end) {
        const started = performance.now();
        for (let i = 0; i < batch; i++) {
          const result = fn();
          if (result instanceof Promise) await result;
        }
        calls += batch;
        // Check the clock about once a millisecond, whatever a call costs.
        if (performance.now() - started < 1 && batch < 4096) batch *= 2;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return calls;
  };
  await runFor(Math.min(300, timeMs / 4));
  const started = performance.now();
  const calls = await runFor(timeMs);
  const seconds = (performance.now() - started) / 1000;
  return { 'validations/s': calls / seconds, 'mean µs': (seconds * 1e6 * concurrency) / calls, calls };
}

/** Per-call latencies of several systems, called in turn so that noise spreads evenly over them. */
async function interleavedLatency(
  fns: ReadonlyArray<() => Promise<unknown>>,
  rounds: number,
): Promise<BenchRow['metrics'][]> {
  const samples = fns.map(() => [] as number[]);
  for (let round = 0; round < rounds + 50; round++) {
    for (let i = 0; i < fns.length; i++) {
      const started = performance.now();
      await fns[i]!();
      if (round >= 50) samples[i]!.push((performance.now() - started) * 1000);
    }
  }
  return samples.map((list) => {
    list.sort((a, b) => a - b);
    const mean = list.reduce((sum, v) => sum + v, 0) / list.length;
    const at = (q: number) => list[Math.min(list.length - 1, Math.floor(q * list.length))]!;
    return { 'mean µs': mean, 'p50 µs': at(0.5), 'p99 µs': at(0.99), calls: list.length };
  });
}

interface NaiveTable {
  key_hash: string;
  owner_id: string;
  scopes: string;
  expires_at: number | string;
  revoked: number;
  last_used_at: number | string | null;
  use_count: number | string;
}
interface NaiveDb {
  naive_api_keys: NaiveTable;
}

/**
 * The baseline, as libraries commonly do it: an opaque random key, stored as its SHA-256, found by
 * hash with one query per validation. `touch` adds the per-request "last used" write many of them
 * also make.
 */
class NaiveApiKeys {
  constructor(private readonly db: Kysely<NaiveDb>) {}

  async setup(): Promise<void> {
    await this.db.schema
      .createTable('naive_api_keys')
      .ifNotExists()
      .addColumn('key_hash', 'text', (c) => c.primaryKey())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked', 'integer', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .addColumn('use_count', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
  }

  async create(ownerId: string, scopes: string[]): Promise<string> {
    const key = `sk_${randomBytes(24).toString('base64url')}`;
    await this.db
      .insertInto('naive_api_keys')
      .values({
        key_hash: createHash('sha256').update(key).digest('hex'),
        owner_id: ownerId,
        scopes: JSON.stringify(scopes),
        expires_at: Date.now() + 90 * 86_400_000,
        revoked: 0,
        last_used_at: null,
        use_count: 0,
      })
      .execute();
    return key;
  }

  async validate(key: string, requiredScope: string, touch = false): Promise<boolean> {
    const hash = createHash('sha256').update(key).digest('hex');
    const row = await this.db
      .selectFrom('naive_api_keys')
      .selectAll()
      .where('key_hash', '=', hash)
      .executeTakeFirst();
    if (row === undefined || row.revoked !== 0 || Number(row.expires_at) <= Date.now()) return false;
    if (!(JSON.parse(row.scopes) as string[]).includes(requiredScope)) return false;
    if (touch) {
      await this.db
        .updateTable('naive_api_keys')
        .set({ last_used_at: Date.now(), use_count: sql`use_count + 1` })
        .where('key_hash', '=', hash)
        .execute();
    }
    return true;
  }
}

interface Backend {
  label: string;
  db: Kysely<unknown>;
  close(): Promise<void>;
}

async function postgresBackend(): Promise<Backend | undefined> {
  const url = process.env.PLAT_TEST_PG_URL;
  if (!url) {
    console.log(
      '\nPostgreSQL tables skipped: PLAT_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test).',
    );
    return undefined;
  }
  const schema = `bench_apikeys_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  try {
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
  } catch (error) {
    console.log(`\nPostgreSQL tables skipped: ${url} is unreachable (${(error as Error).message}).`);
    await admin.end().catch(() => {});
    return undefined;
  }
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: scoped.toString(), max: 4 }) }),
  });
  return {
    label: 'PostgreSQL',
    db,
    async close() {
      await db.destroy();
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    },
  };
}

function sqliteBackend(): Backend {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
  return { label: 'SQLite', db, close: () => db.destroy() };
}

async function compareOn(backend: Backend): Promise<void> {
  const naive = new NaiveApiKeys(backend.db as unknown as Kysely<NaiveDb>);
  await naive.setup();
  const store = createKyselyKeyStore({ db: backend.db });
  const keys = createApiKeyManager({ store, peppers: PEPPERS, onError: () => {} });
  const uncached = createApiKeyManager({ store, peppers: PEPPERS, cache: false, onError: () => {} });
  const managers: ApiKeyManager[] = [keys, uncached];
  try {
    const naiveKeys: string[] = [];
    const platKeys: string[] = [];
    for (let i = 0; i < HOT_KEYS; i++) {
      naiveKeys.push(await naive.create(`owner-${i}`, ['workflows:read']));
      platKeys.push(
        (await keys.create({ ownerId: `owner-${i}`, name: `k${i}`, scopes: ['workflows:read'] })).key,
      );
    }
    const required = { requiredScopes: ['workflows:read'] };
    // Warm our cache with the hot set (the naive approach has nothing to warm).
    for (const key of platKeys) await keys.validate(key, required);
    const next = (list: string[]) => {
      let i = 0;
      return () => list[i++ % list.length]!;
    };
    const naiveNext = next(naiveKeys);
    const naiveTouchNext = next(naiveKeys);
    const platNext = next(platKeys);
    const platSyncNext = next(platKeys);
    const systems: Array<[string, () => unknown, number]> = [
      [
        `naive: SHA-256 + ${backend.label} lookup per call`,
        () => naive.validate(naiveNext(), 'workflows:read'),
        1,
      ],
      [`naive, 16 calls in flight`, () => naive.validate(naiveNext(), 'workflows:read'), 16],
      [
        'naive + last-used UPDATE per call',
        () => naive.validate(naiveTouchNext(), 'workflows:read', true),
        1,
      ],
      ['@plat/apikeys validate() (cached, awaited)', () => keys.validate(platNext(), required), 1],
      ['@plat/apikeys check() (cached, sync)', () => keys.check(platSyncNext(), required), 1],
    ];
    const rows: BenchRow[] = [];
    for (const [system, fn, concurrency] of systems) {
      rows.push({ system, metrics: await loopRate(fn, LOOP_MS, concurrency) });
    }
    printTable(`validate a key from a hot set of ${HOT_KEYS}, ${backend.label}`, rows, {
      ratioOf: 'validations/s',
      note:
        'Back-to-back validations on one core (one loop, or 16 concurrent loops where noted), round-robin over ' +
        'the hot set, scope check included; @plat/apikeys counts usage in memory and writes it every 5 s (included).',
    });

    // The cached manager's batched writes would land in the middle of the next table: stop it first.
    await keys.close();
    const missNaive = next(naiveKeys);
    const missPlat = next(platKeys);
    const [naiveMiss, platMiss] = await interleavedLatency(
      [() => naive.validate(missNaive(), 'workflows:read'), () => uncached.validate(missPlat(), required)],
      quick ? 200 : 5000,
    );
    printTable(
      `cache miss: every validation reads ${backend.label}`,
      [
        { system: 'naive: SHA-256 + lookup', metrics: naiveMiss! },
        { system: '@plat/apikeys, cache off (checksum + lookup + HMAC)', metrics: platMiss! },
      ],
      {
        ratioOf: 'p99 µs',
        higherIsBetter: false,
        note:
          'The miss path of @plat/apikeys: checksum, one primary-key read, HMAC-SHA-256 with the pepper, ' +
          'constant-time compare. The two alternate call by call, so machine noise hits both alike.',
      },
    );
  } finally {
    for (const manager of managers) await manager.close();
  }
}

export default async function run(): Promise<void> {
  const key = `plat_live_${'a'.repeat(12)}_${'b'.repeat(32)}_cccccc`;
  const pepper = randomBytes(32);
  const sqlite = sqliteBackend();
  try {
    const store = createKyselyKeyStore({ db: sqlite.db });
    const keys = createApiKeyManager({ store, peppers: PEPPERS, onError: () => {} });
    const { key: real } = await keys.create({ ownerId: 'o', name: 'k' });
    await keys.validate(real);
    const systems: Array<[string, () => unknown]> = [
      ['new HMAC-SHA-256 object per call (no I/O)', () => createHmac('sha256', pepper).update(key).digest()],
      ['one-shot SHA-256 per call, crypto.hash (no I/O)', () => sha256(key)],
      ['@plat/apikeys check() (cached)', () => keys.check(real)],
    ];
    const rows: BenchRow[] = [];
    for (const [system, fn] of systems) rows.push({ system, metrics: await loopRate(fn, LOOP_MS) });
    printTable('what one cached validation costs, beside per-call hashing alone', rows, {
      ratioOf: 'validations/s',
      note: 'A hit costs one SHA-256 of the presented key, one Map lookup and the checks: no HMAC, no I/O.',
    });
    await keys.close();
  } finally {
    await sqlite.close();
  }

  const postgres = await postgresBackend();
  if (postgres !== undefined) {
    try {
      await compareOn(postgres);
    } finally {
      await postgres.close();
    }
  }
  const embedded = sqliteBackend();
  try {
    await compareOn(embedded);
  } finally {
    await embedded.close();
  }
}

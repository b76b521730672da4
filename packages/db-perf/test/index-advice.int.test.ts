import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithPostgres, isCI } from '@plat/testkit';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { analyzeQuery, createDbPerf, type DbPerf, readPgStatStatements } from '../src';

interface ShopDb {
  orders: { id: number; customer_id: number; status: string; total: number; created_at: string };
}

/** hypopg ships as a Debian package; CI installs it (.ci/run). Elsewhere its tests skip visibly. */
const hypopgInstalled = (() => {
  const base = '/usr/share/postgresql';
  if (!existsSync(base)) return false;
  return readdirSync(base).some((version) => existsSync(join(base, version, 'extension', 'hypopg.control')));
})();
const withHypopg = hypopgInstalled || isCI() ? it : it.skip;

describeWithPostgres('index advice on PostgreSQL (100,000 orders)', (pgdb) => {
  let perf: DbPerf;
  let db: Kysely<ShopDb>;
  const byCustomer = () => db.selectFrom('orders').selectAll().where('customer_id', '=', 4242);

  beforeAll(async () => {
    perf = createDbPerf({ logger: false });
    db = perf.attach(
      new Kysely<ShopDb>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: pgdb.url, max: 3 }) }),
        log: perf.log,
      }),
    );
    await sql`create table orders (
      id serial primary key, customer_id int not null, status text not null,
      total numeric(10, 2) not null, created_at timestamptz not null)`.execute(db);
    await sql`insert into orders (customer_id, status, total, created_at)
      select i % 5000, (array['open', 'paid', 'shipped'])[1 + i % 3], (i % 1000) / 10.0,
             now() - (i || ' minutes')::interval
      from generate_series(1, 100000) as i`.execute(db);
    await sql`analyze orders`.execute(db);
    if (hypopgInstalled || isCI()) {
      // In public, so that it outlives this file's schema; idempotent.
      await sql`create extension if not exists hypopg with schema public`.execute(db);
    }
  }, 60_000);
  afterAll(async () => {
    await db.destroy();
  });

  it('reports the sequential scan with its filter', async () => {
    const analysis = await perf.analyze(byCustomer(), { analyze: true, hypopg: false });
    expect(analysis.analyzed).toBe(true);
    expect(analysis.fingerprint).toBe('select * from "orders" where "customer_id" = ?');
    expect(analysis.findings[0]).toMatchObject({
      kind: 'seq-scan-filter',
      relation: 'orders',
      severity: 'high',
      metrics: { scannedRows: 100_000, returnedRows: 20 },
    });
  });

  it('gives heuristic advice with lower confidence without hypopg', async () => {
    const analysis = await perf.analyze(byCustomer(), { analyze: true, hypopg: false });
    expect(analysis.hypopg).toBe('disabled');
    expect(analysis.indexes).toHaveLength(1);
    expect(analysis.indexes[0]).toMatchObject({
      table: 'orders',
      schema: pgdb.schema,
      columns: ['customer_id'],
      validated: false,
      costBefore: undefined,
    });
    expect(['medium', 'low']).toContain(analysis.indexes[0]!.confidence);
    expect(analysis.indexes[0]!.reason).toContain('heuristic');
  });

  it('advises nothing for a cheap query on a small table', async () => {
    await sql`create table tiny (id int primary key, kind text)`.execute(db);
    await sql`insert into tiny select i, 'k' || (i % 3) from generate_series(1, 50) i`.execute(db);
    await sql`analyze tiny`.execute(db);
    const analysis = await analyzeQuery(db, { sql: "select * from tiny where kind = 'k1'" });
    expect(analysis.findings).toEqual([]);
    expect(analysis.indexes).toEqual([]);
  });

  withHypopg('validates a candidate with hypopg, and the real index is used once created', async () => {
    const analysis = await perf.analyze(byCustomer());
    expect(analysis.hypopg).toBe('used');
    expect(analysis.indexes).toHaveLength(1);
    const [advice] = analysis.indexes;
    expect(advice).toMatchObject({
      table: 'orders',
      columns: ['customer_id'],
      confidence: 'high',
      validated: true,
      statement: `CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders_customer_id_idx" ON "${pgdb.schema}"."orders" ("customer_id")`,
    });
    expect(advice!.costBefore!).toBeGreaterThanOrEqual(100);
    expect(advice!.costAfter!).toBeLessThanOrEqual(advice!.costBefore! / 2);
    expect(advice!.improvement!).toBeGreaterThanOrEqual(0.5);

    // No hypothetical index is left behind in the pool's sessions.
    const left = await sql<{ n: number }>`select count(*)::int as n from public.hypopg_list_indexes`.execute(
      db,
    );
    expect(left.rows[0]!.n).toBe(0);

    await sql.raw(advice!.statement).execute(db);
    const plan = await sql<{
      'QUERY PLAN': string;
    }>`explain select * from orders where customer_id = 4242`.execute(db);
    const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).toContain('orders_customer_id_idx');

    // With the index in place, nothing more is advised for this query.
    const after = await perf.analyze(byCustomer());
    expect(after.findings.filter((f) => f.kind === 'seq-scan-filter')).toEqual([]);
    expect(after.indexes).toEqual([]);
    await sql`drop index orders_customer_id_idx`.execute(db);
  });

  withHypopg('keeps the cheapest, narrowest of the equality, range and composite candidates', async () => {
    const query = db
      .selectFrom('orders')
      .selectAll()
      .where('status', '=', 'open')
      .where('created_at', '>', sql<string>`now() - interval '2 hours'`);
    const analysis = await perf.analyze(query);
    expect(analysis.hypopg).toBe('used');
    expect(analysis.indexes).toHaveLength(1);
    expect(analysis.indexes[0]!.columns).toContain('created_at');
    expect(analysis.rejected.length).toBeGreaterThan(0);
    for (const rejected of analysis.rejected) expect(rejected.reason).toEqual(expect.any(String));
  });

  withHypopg('considers the sort keys of a sort fed by the scanned table', async () => {
    const latest = db
      .selectFrom('orders')
      .selectAll()
      .where('customer_id', '=', 17)
      .orderBy('created_at', 'desc')
      .limit(5);
    const analysis = await perf.analyze(latest);
    expect(analysis.indexes).toHaveLength(1);
    expect(analysis.indexes[0]!.columns[0]).toBe('customer_id');
    const considered = [analysis.indexes[0]!.columns, ...analysis.rejected.map((r) => r.columns)];
    expect(considered).toContainEqual(['customer_id', 'created_at']);
  });

  withHypopg('does not recommend an index below the cost floor', async () => {
    const analysis = await perf.analyze(byCustomer(), { minCost: 1e9 });
    expect(analysis.indexes).toEqual([]);
    expect(analysis.rejected.some((r) => r.reason.includes('not worth an index'))).toBe(true);
  });

  it('reads pg_stat_statements when it is loaded and says why when it is not', async () => {
    const installed = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_extension where extname = 'pg_stat_statements'`.execute(db);
    const preload = await sql<{ v: string }>`select current_setting('shared_preload_libraries') as v`.execute(
      db,
    );
    const loaded = preload.rows[0]!.v.includes('pg_stat_statements');
    const result = await perf.readPgStatStatements({ limit: 5 });
    if (installed.rows[0]!.n === 0) {
      expect(result).toMatchObject({ available: false, reason: 'not-installed' });
    } else if (!loaded) {
      expect(result).toMatchObject({ available: false, reason: 'not-loaded' });
    } else {
      expect(result.available).toBe(true);
      if (result.available) for (const s of result.statements) expect(s.query).not.toMatch(/'[^']*'/);
    }
  });

  it('reports a created but unloaded pg_stat_statements as not loaded', async () => {
    const preload = await sql<{ v: string }>`select current_setting('shared_preload_libraries') as v`.execute(
      db,
    );
    const installed = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_extension where extname = 'pg_stat_statements'`.execute(db);
    if (preload.rows[0]!.v.includes('pg_stat_statements') || installed.rows[0]!.n > 0) return; // nothing to simulate
    // Created in this file's schema only for the test, and dropped right after.
    await sql.raw(`create extension pg_stat_statements with schema "${pgdb.schema}"`).execute(db);
    try {
      expect(await readPgStatStatements(db)).toMatchObject({ available: false, reason: 'not-loaded' });
    } finally {
      await sql`drop extension if exists pg_stat_statements`.execute(db);
    }
  });
});

describe('index advice on SQLite (heuristic)', () => {
  let dir: string;
  let db: Kysely<ShopDb>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plat-db-perf-advice-'));
    db = new Kysely<ShopDb>({ dialect: new SqliteDialect({ database: new Database(join(dir, 'shop.db')) }) });
    await sql`create table orders (id integer primary key, customer_id int not null, status text not null,
      total real not null, created_at text not null)`.execute(db);
    await sql`with recursive s(i) as (select 1 union all select i + 1 from s where i < 20000)
      insert into orders (customer_id, status, total, created_at)
      select i % 500, 'open', i / 10.0, datetime('now') from s`.execute(db);
  });
  afterAll(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a full scan and advises an index from the query tree', async () => {
    const analysis = await analyzeQuery(
      db,
      db.selectFrom('orders').selectAll().where('customer_id', '=', 7).orderBy('created_at'),
    );
    expect(analysis.dialect).toBe('sqlite');
    expect(analysis.hypopg).toBe('not-postgres');
    expect(analysis.findings.map((f) => f.kind)).toEqual(['full-scan', 'temp-sort']);
    expect(analysis.indexes).toEqual([
      expect.objectContaining({
        table: 'orders',
        columns: ['customer_id'],
        validated: false,
        statement: 'CREATE INDEX IF NOT EXISTS "orders_customer_id_idx" ON "orders" ("customer_id")',
      }),
    ]);
    await sql.raw(analysis.indexes[0]!.statement).execute(db);
    const after = await analyzeQuery(db, db.selectFrom('orders').selectAll().where('customer_id', '=', 7));
    expect(after.findings).toEqual([]);
    expect(after.indexes).toEqual([]);
  });

  it('says pg_stat_statements is a PostgreSQL feature', async () => {
    expect(await readPgStatStatements(db)).toMatchObject({ available: false, reason: 'not-postgres' });
  });

  it('refuses statements that cannot be explained', async () => {
    await expect(analyzeQuery(db, { sql: 'vacuum' })).rejects.toMatchObject({ code: 'EXPLAIN_FAILED' });
  });
});

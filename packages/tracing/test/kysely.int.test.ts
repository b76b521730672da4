import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describeWithPostgres } from '@plat/testkit';
import Database from 'better-sqlite3';
import { type Dialect, Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { setupTracing, type TracingHandle, withSpan } from '../src';
import { traceDialect } from '../src/kysely';
import { idOf, parentOf } from './helpers/http';

interface Db {
  tracing_nodes: { id: number; workflow: string; label: string };
}

let handle: TracingHandle;
beforeAll(() => {
  handle = setupTracing({ exporter: 'memory', instrumentations: false });
});
afterAll(() => handle.shutdown());
const spans = () => handle.memoryExporter!.getFinishedSpans();

type DialectName = 'sqlite' | 'postgres';

/** One suite, run on SQLite (a temporary file) and on PostgreSQL (this file's own schema). */
function suite(dialectName: DialectName, makeDialect: () => Dialect): void {
  let db: Kysely<Db>;
  const system = dialectName === 'postgres' ? 'postgresql' : 'sqlite';
  const placeholder = dialectName === 'postgres' ? '$1' : '?';

  beforeAll(async () => {
    db = new Kysely<Db>({ dialect: traceDialect(makeDialect()) });
    await db.schema
      .createTable('tracing_nodes')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('workflow', 'text', (c) => c.notNull())
      .addColumn('label', 'text', (c) => c.notNull())
      .execute();
  });
  afterAll(() => db.destroy());
  beforeEach(() => handle.memoryExporter!.reset());

  it('records one client span per query with the parameterized SQL and never the values', async () => {
    await withSpan('request', async () => {
      await db
        .insertInto('tracing_nodes')
        .values({ id: 1, workflow: 'secret-workflow', label: 'build' })
        .execute();
      await db
        .selectFrom('tracing_nodes')
        .select(['id', 'label'])
        .where('workflow', '=', 'secret-workflow')
        .execute();
      await db.updateTable('tracing_nodes').set({ label: 'test' }).where('id', '=', 1).execute();
      await db.deleteFrom('tracing_nodes').where('id', '=', 999).execute();
    });
    const request = spans().find((s) => s.name === 'request')!;
    const queries = spans().filter((s) => s.attributes['db.system.name'] !== undefined);
    expect(queries.map((s) => s.name)).toEqual([
      'INSERT tracing_nodes',
      'SELECT tracing_nodes',
      'UPDATE tracing_nodes',
      'DELETE tracing_nodes',
    ]);
    for (const span of queries) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(parentOf(span)).toBe(idOf(request));
      expect(span.attributes['db.system.name']).toBe(system);
      expect(span.attributes['db.collection.name']).toBe('tracing_nodes');
      expect(span.attributes['db.query.summary']).toBe(span.name);
      const text = String(span.attributes['db.query.text']);
      expect(text).not.toContain('secret-workflow');
      expect(text).not.toContain('build');
    }
    const select = queries[1]!;
    expect(select.attributes['db.operation.name']).toBe('SELECT');
    expect(select.attributes['db.query.text']).toBe(
      `select "id", "label" from "tracing_nodes" where "workflow" = ${placeholder}`,
    );
    expect(select.attributes['db.response.returned_rows']).toBe(1);
  });

  it('records failed queries with the exception and the database error code', async () => {
    await db.insertInto('tracing_nodes').values({ id: 2, workflow: 'w', label: 'a' }).execute();
    handle.memoryExporter!.reset();
    // Not `.rejects.toThrow()`: better-sqlite3's native errors may come from another jest realm.
    const error = await db
      .insertInto('tracing_nodes')
      .values({ id: 2, workflow: 'w', label: 'duplicate' })
      .execute()
      .then(
        () => undefined,
        (reason: unknown) => reason as { code?: string; message?: string },
      );
    const code = dialectName === 'postgres' ? '23505' : 'SQLITE_CONSTRAINT_PRIMARYKEY';
    expect(error?.code).toBe(code);
    const [failed] = spans();
    expect(failed?.status).toEqual({ code: SpanStatusCode.ERROR, message: error?.message });
    expect(failed?.attributes['db.response.status_code']).toBe(code);
    expect(failed?.attributes['error.type']).toBe(code);
    expect(failed?.events[0]?.name).toBe('exception');
    expect(failed?.events[0]?.attributes?.['exception.message']).toBe(error?.message);
    expect(String(failed?.attributes['db.query.text'])).not.toContain('duplicate');
  });

  it('keeps transactions working and traces the queries inside them', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('tracing_nodes').values({ id: 10, workflow: 'tx', label: 'a' }).execute();
      await trx.insertInto('tracing_nodes').values({ id: 11, workflow: 'tx', label: 'b' }).execute();
    });
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('tracing_nodes').values({ id: 12, workflow: 'tx', label: 'c' }).execute();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const rows = await db
      .selectFrom('tracing_nodes')
      .select('id')
      .where('workflow', '=', 'tx')
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.id)).toEqual([10, 11]);
    expect(spans().filter((s) => s.name === 'INSERT tracing_nodes')).toHaveLength(3);
  });

  it('traces raw SQL by its leading keyword', async () => {
    await sql`select count(*) as n from tracing_nodes where workflow = ${'tx'}`.execute(db);
    const raw = spans().find((s) => s.attributes['db.operation.name'] === 'SELECT')!;
    expect(raw.name).toBe('SELECT');
    expect(raw.attributes['db.query.text']).toBe(
      `select count(*) as n from tracing_nodes where workflow = ${placeholder}`,
    );
  });

  // Streaming on PostgreSQL needs pg-cursor, which a user adds to the dialect config; SQLite streams natively.
  (dialectName === 'sqlite' ? it : it.skip)('traces a streamed query as one span', async () => {
    const seen: number[] = [];
    for await (const row of db.selectFrom('tracing_nodes').select('id').orderBy('id').stream(1))
      seen.push(row.id);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const [stream] = spans();
    expect(stream?.name).toBe('SELECT tracing_nodes');
    expect(stream?.attributes['db.response.returned_rows']).toBe(seen.length);
  });

  it('can require a parent span', async () => {
    const quiet = new Kysely<Db>({ dialect: traceDialect(makeDialect(), { requireParentSpan: true }) });
    try {
      await quiet.selectFrom('tracing_nodes').select('id').execute();
      expect(spans()).toEqual([]);
      await withSpan('job', () => quiet.selectFrom('tracing_nodes').select('id').execute());
      expect(spans().map((s) => s.name)).toEqual(['SELECT tracing_nodes', 'job']);
    } finally {
      await quiet.destroy();
    }
  });
}

describe('traceDialect [sqlite]', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plat-tracing-kysely-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  suite('sqlite', () => new SqliteDialect({ database: new Database(join(dir, 'test.db')) }));
});

describeWithPostgres('traceDialect [postgres]', (pgdb) => {
  // Its own pool each time: Kysely ends the pool it is given when destroyed.
  suite('postgres', () => new PostgresDialect({ pool: new pg.Pool({ connectionString: pgdb.url }) }));
});

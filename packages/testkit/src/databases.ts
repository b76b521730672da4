import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { describeWithPostgres } from './postgres';

export type SqlDialectName = 'postgres' | 'sqlite';

/** A Kysely instance on one dialect, owned by one test file. */
export interface TestDatabase<DB> {
  readonly dialect: SqlDialectName;
  readonly db: Kysely<DB>;
}

export interface DescribeWithDatabasesOptions {
  /** Which dialects to run the suite on. @default ['sqlite', 'postgres'] */
  dialects?: readonly SqlDialectName[];
}

function lazy<DB>(dialect: SqlDialectName, get: () => Kysely<DB> | undefined): TestDatabase<DB> {
  return {
    dialect,
    get db() {
      const db = get();
      if (db === undefined)
        throw new Error(`${dialect} test database is not ready: use it inside hooks or tests`);
      return db;
    },
  };
}

/**
 * Runs one conformance suite on SQLite (a temporary file) and on PostgreSQL (this file's own schema,
 * or a visible skip when PLAT_TEST_PG_URL is unset).
 *
 * @example
 * ```ts
 * describeWithDatabases<MyDb>('event store', (t) => {
 *   it('migrates', async () => { await migrate(t.db); });
 * });
 * ```
 */
export function describeWithDatabases<DB>(
  name: string,
  body: (database: TestDatabase<DB>) => void,
  options: DescribeWithDatabasesOptions = {},
): void {
  const dialects = options.dialects ?? ['sqlite', 'postgres'];
  if (dialects.includes('sqlite')) {
    describe(`${name} [sqlite]`, () => {
      let db: Kysely<DB> | undefined;
      let dir: string | undefined;
      beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), 'plat-test-'));
        db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database(join(dir, 'test.db')) }) });
      });
      afterAll(async () => {
        await db?.destroy();
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      });
      body(lazy('sqlite', () => db));
    });
  }
  if (dialects.includes('postgres')) {
    describeWithPostgres(`${name} [postgres]`, (pgdb) => {
      let db: Kysely<DB> | undefined;
      beforeAll(() => {
        // Its own pool: Kysely ends the pool it is given when destroyed.
        db = new Kysely<DB>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: pgdb.url }) }),
        });
      });
      afterAll(async () => {
        await db?.destroy();
      });
      body(lazy('postgres', () => db));
    });
  }
}

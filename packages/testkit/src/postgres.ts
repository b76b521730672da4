import pg from 'pg';
import { describeWithServices, isolationName, POSTGRES, serviceUrl } from './services';

/** A PostgreSQL schema owned by one test file, dropped when the file's tests finish. */
export interface PgTestDatabase {
  /** The server URL with `search_path` pinned to this file's schema, for code that connects itself. */
  readonly url: string;
  /** The schema name (already quoted-safe: lower-case letters, digits and underscores). */
  readonly schema: string;
  /** A pool whose connections use the schema. */
  readonly pool: pg.Pool;
  /** The server URL without the schema option (for admin work across schemas). */
  readonly serverUrl: string;
}

/** Appends `options=-c search_path=<schema>` so every connection made from the URL uses the schema. */
export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

/**
 * A `describe` block with its own PostgreSQL schema, or a visible skip when PLAT_TEST_PG_URL is unset.
 * Read the fields of `db` inside hooks and tests (they exist once `beforeAll` has run).
 *
 * @example
 * ```ts
 * describeWithPostgres('event store on PostgreSQL', (db) => {
 *   it('appends', async () => {
 *     await db.pool.query('create table t (id int)');
 *   });
 * });
 * ```
 */
export function describeWithPostgres(name: string, body: (db: PgTestDatabase) => void): void {
  describeWithServices([POSTGRES], name, () => {
    let state: { url: string; schema: string; pool: pg.Pool; serverUrl: string } | undefined;
    const db: PgTestDatabase = {
      get url() {
        return ready().url;
      },
      get schema() {
        return ready().schema;
      },
      get pool() {
        return ready().pool;
      },
      get serverUrl() {
        return ready().serverUrl;
      },
    };
    function ready() {
      if (state === undefined)
        throw new Error('PostgreSQL test schema is not ready: use it inside hooks or tests');
      return state;
    }
    beforeAll(async () => {
      const serverUrl = serviceUrl(POSTGRES)!;
      const schema = isolationName('t');
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      try {
        await admin.query(`create schema "${schema}"`);
      } finally {
        await admin.end();
      }
      const url = withSearchPath(serverUrl, schema);
      state = { url, schema, serverUrl, pool: new pg.Pool({ connectionString: url, max: 10 }) };
    });
    afterAll(async () => {
      if (state === undefined) return;
      await state.pool.end();
      const admin = new pg.Client({ connectionString: state.serverUrl });
      await admin.connect();
      try {
        await admin.query(`drop schema if exists "${state.schema}" cascade`);
      } finally {
        await admin.end();
      }
    });
    body(db);
  });
}

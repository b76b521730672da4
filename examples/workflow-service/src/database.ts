/**
 * One Kysely instance for everything (read model, events, API keys): SQLite through better-sqlite3
 * by default, PostgreSQL with `PLAT_PG_URL`. Every query gets a span (@plat/tracing) and goes
 * through db-perf (slow-query log, statistics, N+1 detection per request).
 */
import type { DbPerf } from '@plat/db-perf';
import { traceDialect } from '@plat/tracing/kysely';
import Sqlite from 'better-sqlite3';
import { type Dialect, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { ServiceConfig } from './config';
import type { Database } from './schema';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: 'postgres' | 'sqlite';
  /** The pg pool on PostgreSQL, for the event store's LISTEN connection. */
  readonly pool: pg.Pool | undefined;
}

/**
 * Opens the database named by the configuration, instrumented by `perf`.
 *
 * @example
 * ```ts
 * const { db } = openDatabase(readConfig(), createDbPerf());
 * ```
 */
export function openDatabase(config: ServiceConfig, perf: DbPerf): DatabaseHandle {
  let dialect: Dialect;
  let pool: pg.Pool | undefined;
  if (config.postgresUrl !== undefined) {
    pool = new pg.Pool({ connectionString: config.postgresUrl, max: 10 });
    dialect = new PostgresDialect({ pool });
  } else {
    const sqlite = new Sqlite(config.sqliteFile);
    sqlite.pragma('journal_mode = WAL');
    dialect = new SqliteDialect({ database: sqlite });
  }
  const db = perf.attach(new Kysely<Database>({ dialect: traceDialect(dialect), log: perf.log }));
  return { db, dialect: pool === undefined ? 'sqlite' : 'postgres', pool };
}

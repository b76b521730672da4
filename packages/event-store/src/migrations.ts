import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { EventStoreError } from './errors';
import type { TableNames } from './tables';
import type { EventStoreDialect } from './types';

/**
 * PostgreSQL schema. Notes on the choices:
 * - `transaction_id` (xid8, PostgreSQL 13+) records which transaction wrote each event; the global
 *   log is read in (transaction_id, position) order and only below the oldest running transaction,
 *   which is what makes it gap-safe (see docs/event-store.md).
 * - `last_transaction_id` on a stream is the transaction that last appended to it; an append is
 *   only accepted from a transaction at least as new, so a stream's versions follow the log order.
 * - `recorded_at` gets a BRIN index: nearly free on insert for an append-only, time-ordered table.
 * - no foreign key from events to streams: the append statement maintains both in one statement,
 *   and a foreign key check per event row would cost throughput for nothing.
 */
function postgresMigrations(t: TableNames): Record<string, Migration> {
  const id = (name: string) => sql.id(name);
  return {
    '0001_event_store': {
      async up(db) {
        await sql`
          create table ${id(t.streams)} (
            stream_id text primary key,
            version bigint not null,
            last_transaction_id xid8 not null default pg_current_xact_id(),
            created_at timestamptz not null default now(),
            updated_at timestamptz not null default now(),
            deleted_at timestamptz,
            archived_at timestamptz
          )`.execute(db);
        await sql`
          create table ${id(t.events)} (
            position bigint generated always as identity primary key,
            transaction_id xid8 not null default pg_current_xact_id(),
            stream_id text not null,
            version bigint not null,
            event_id uuid not null,
            type text not null,
            schema_version integer not null default 1,
            data jsonb not null,
            metadata jsonb not null,
            actor text,
            recorded_at timestamptz not null default now(),
            constraint ${id(`${t.events}_stream_version`)} unique (stream_id, version),
            constraint ${id(`${t.events}_event_id`)} unique (event_id)
          )`.execute(db);
        await sql`create index ${id(`${t.events}_log`)} on ${id(t.events)} (transaction_id, position)`.execute(
          db,
        );
        await sql`create index ${id(`${t.events}_actor`)} on ${id(t.events)} (actor, position) where actor is not null`.execute(
          db,
        );
        await sql`create index ${id(`${t.events}_recorded_at`)} on ${id(t.events)} using brin (recorded_at)`.execute(
          db,
        );
        await sql`
          create table ${id(t.snapshots)} (
            stream_id text not null,
            name text not null,
            version bigint not null,
            state jsonb not null,
            created_at timestamptz not null default now(),
            primary key (stream_id, name, version)
          )`.execute(db);
        await sql`
          create table ${id(t.checkpoints)} (
            name text primary key,
            cursor text not null,
            revision bigint not null,
            updated_at timestamptz not null default now()
          )`.execute(db);
      },
      async down(db) {
        for (const table of [t.checkpoints, t.snapshots, t.events, t.streams]) {
          await sql`drop table if exists ${id(table)}`.execute(db);
        }
      },
    },
  };
}

/**
 * SQLite schema. SQLite runs one writer at a time and `AUTOINCREMENT` positions are drawn inside
 * the write lock, so positions commit in order and `transaction_id` stays 0. Times are epoch
 * milliseconds; JSON is stored as text.
 */
function sqliteMigrations(t: TableNames): Record<string, Migration> {
  const id = (name: string) => sql.id(name);
  return {
    '0001_event_store': {
      async up(db) {
        await sql`
          create table ${id(t.streams)} (
            stream_id text primary key,
            version integer not null,
            created_at integer not null,
            updated_at integer not null,
            deleted_at integer,
            archived_at integer
          )`.execute(db);
        await sql`
          create table ${id(t.events)} (
            position integer primary key autoincrement,
            transaction_id integer not null default 0,
            stream_id text not null,
            version integer not null,
            event_id text not null,
            type text not null,
            schema_version integer not null default 1,
            data text not null,
            metadata text not null,
            actor text,
            recorded_at integer not null,
            constraint ${id(`${t.events}_stream_version`)} unique (stream_id, version),
            constraint ${id(`${t.events}_event_id`)} unique (event_id)
          )`.execute(db);
        await sql`create index ${id(`${t.events}_actor`)} on ${id(t.events)} (actor, position) where actor is not null`.execute(
          db,
        );
        await sql`create index ${id(`${t.events}_recorded_at`)} on ${id(t.events)} (recorded_at)`.execute(db);
        await sql`
          create table ${id(t.snapshots)} (
            stream_id text not null,
            name text not null,
            version integer not null,
            state text not null,
            created_at integer not null,
            primary key (stream_id, name, version)
          )`.execute(db);
        await sql`
          create table ${id(t.checkpoints)} (
            name text primary key,
            cursor text not null,
            revision integer not null,
            updated_at integer not null
          )`.execute(db);
      },
      async down(db) {
        for (const table of [t.checkpoints, t.snapshots, t.events, t.streams]) {
          await sql`drop table if exists ${id(table)}`.execute(db);
        }
      },
    },
  };
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

/**
 * A Kysely `Migrator` for the store's schema, with migration tables named after the prefix. On
 * PostgreSQL the migration tables are pinned to the connection's current schema: Kysely looks them
 * up across every schema otherwise, and another schema's tables of the same name would fool it.
 *
 * @example
 * ```ts
 * const migrator = await createMigrator(db, 'postgres', tableNames('es_'));
 * console.log(await migrator.getMigrations());
 * ```
 */
export async function createMigrator(
  db: Kysely<unknown>,
  dialect: EventStoreDialect,
  tables: TableNames,
): Promise<Migrator> {
  const migrations = dialect === 'postgres' ? postgresMigrations(tables) : sqliteMigrations(tables);
  let schema: string | undefined;
  if (dialect === 'postgres') {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    schema = rows[0]?.schema ?? undefined;
  }
  return new Migrator({
    db,
    provider: new StaticProvider(migrations),
    migrationTableName: tables.migration,
    migrationLockTableName: tables.migrationLock,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
}

/** Runs every pending migration; a failure is a typed `MIGRATION_FAILED` error with the cause. */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: EventStoreDialect,
  tables: TableNames,
): Promise<string[]> {
  let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>>;
  try {
    outcome = await (await createMigrator(db, dialect, tables)).migrateToLatest();
  } catch (error) {
    throw new EventStoreError('MIGRATION_FAILED', `Event store migration failed: ${String(error)}`, {
      cause: error,
    });
  }
  const { error, results } = outcome;
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new EventStoreError(
      'MIGRATION_FAILED',
      `Event store migration ${failed ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

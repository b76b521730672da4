import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { EventStoreError } from './errors';
import { lockClass, type TableNames } from './tables';
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
        await sql.raw(appendFunction(t)).execute(db);
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
        await sql`drop function if exists ${id(`${t.prefix}append`)}`.execute(db);
        for (const table of [t.checkpoints, t.snapshots, t.events, t.streams]) {
          await sql`drop table if exists ${id(table)}`.execute(db);
        }
      },
    },
    '0002_append_json': {
      async up(db) {
        await sql.raw(appendJsonFunction(t, await positionSequence(db, t))).execute(db);
      },
      async down(db) {
        await sql`drop function if exists ${id(`${t.prefix}append_json`)}`.execute(db);
      },
    },
  };
}

/** The stream's transaction-scoped advisory lock, as an SQL call. */
function advisoryLock(t: TableNames, kind: 'lock' | 'try_lock' = 'lock'): string {
  return `pg_${kind === 'lock' ? 'advisory_xact_lock' : 'try_advisory_xact_lock'}(${lockClass(t)}, hashtext(p_stream))`;
}

/**
 * The PL/pgSQL steps both append functions start with; they leave the stream's new version in
 * `v_version`, or null when the append is refused:
 *
 * 1. A transaction-scoped advisory lock on the stream comes first. It does not assign a
 *    transaction id, so the id (assigned by the first write below) is newer than that of every
 *    earlier writer of the stream, which held the lock until it committed: a stream's versions
 *    follow the global log's transaction-id order.
 * 2. The UPDATE bumps an existing stream when the expected-version rule allows it; otherwise the
 *    INSERT creates a missing one (ON CONFLICT DO NOTHING). A transaction that already had an id
 *    (it wrote before, inside `store.transaction()`) is refused when a newer transaction appended
 *    to the stream meanwhile (`last_transaction_id`), for the same ordering reason.
 */
function claimVersions(t: TableNames, lock = `perform ${advisoryLock(t)};`): string {
  const q = (name: string) => `"${name}"`;
  return `
      ${lock}
      if p_update then
        update ${q(t.streams)} s
          set version = s.version + v_count, updated_at = now(), last_transaction_id = pg_current_xact_id()
          where s.stream_id = p_stream and s.deleted_at is null and s.archived_at is null
            and (p_exact is null or s.version = p_exact)
            and s.last_transaction_id <= coalesce(pg_current_xact_id_if_assigned(), '18446744073709551615'::xid8)
          returning s.version into v_version;
      end if;
      if v_version is null and p_insert then
        insert into ${q(t.streams)} (stream_id, version) values (p_stream, v_count)
          on conflict (stream_id) do nothing
          returning ${q(t.streams)}.version into v_version;
      end if;`;
}

/**
 * The PostgreSQL append that returns every written row (inline projections need them), as a
 * function so its plans are cached per connection. After `claimVersions`, the events get
 * consecutive versions; refused: no rows.
 */
function appendFunction(t: TableNames): string {
  const q = (name: string) => `"${name}"`;
  return `
    create function ${q(`${t.prefix}append`)}(
      p_stream text, p_update boolean, p_insert boolean, p_exact bigint,
      p_ids uuid[], p_types text[], p_schema_versions int[], p_data text[], p_metadata text[], p_actors text[],
      p_rows boolean
    ) returns table (version bigint, "position" bigint, tx xid8, recorded_at timestamptz)
    language plpgsql as $fn$
    #variable_conflict use_column
    declare
      v_count int := cardinality(p_ids);
      v_version bigint;
    begin${claimVersions(t)}
      if v_version is null then
        return;
      end if;
      if p_rows then
        return query
          insert into ${q(t.events)} as e (stream_id, version, event_id, type, schema_version, data, metadata, actor)
          select p_stream, v_version - v_count + i.ord, i.event_id, i.type, i.schema_version, i.data::jsonb, i.metadata::jsonb, i.actor
          from unnest(p_ids, p_types, p_schema_versions, p_data, p_metadata, p_actors)
            with ordinality as i(event_id, type, schema_version, data, metadata, actor, ord)
          order by i.ord
          returning e.version, e.position, e.transaction_id, e.recorded_at;
      else
        return query
          with inserted as (
            insert into ${q(t.events)} as e (stream_id, version, event_id, type, schema_version, data, metadata, actor)
            select p_stream, v_version - v_count + i.ord, i.event_id, i.type, i.schema_version, i.data::jsonb, i.metadata::jsonb, i.actor
            from unnest(p_ids, p_types, p_schema_versions, p_data, p_metadata, p_actors)
              with ordinality as i(event_id, type, schema_version, data, metadata, actor, ord)
            order by i.ord
            returning e.position
          )
          select v_version, max(inserted.position), null::xid8, null::timestamptz from inserted;
      end if;
    end
    $fn$`;
}

/**
 * The PostgreSQL append of the common case (no inline projections), cheaper on both ends than
 * `appendFunction`: the events arrive as one jsonb array of `[id, type, schemaVersion, data,
 * metadata, actor]` tuples (the client concatenates JSON it has already serialised instead of
 * escaping six text arrays; the server parses one document instead of six arrays and a jsonb value
 * per event), and the answer is a scalar `bigint[]` of the new version and the last position (no
 * set-returning function, no tuplestore, no RETURNING). Null when refused. The last position is
 * the identity sequence's `currval`: this session drew the positions of its rows in `ord` order,
 * so the last one it drew is the last event's. `sequence` names that sequence (see
 * `positionSequence`).
 */
function appendJsonFunction(t: TableNames, sequence: string): string {
  const q = (name: string) => `"${name}"`;
  // Uncontended, the lock is taken by a simple expression, which PL/pgSQL evaluates without
  // starting the executor that a PERFORM statement needs; contended, it waits as before.
  const lock = `if not ${advisoryLock(t, 'try_lock')} then perform ${advisoryLock(t)}; end if;`;
  return `
    create function ${q(`${t.prefix}append_json`)}(
      p_stream text, p_update boolean, p_insert boolean, p_exact bigint, p_events jsonb
    ) returns bigint[]
    language plpgsql as $fn$
    declare
      v_count int := jsonb_array_length(p_events);
      v_version bigint;
    begin${claimVersions(t, lock)}
      if v_version is null then
        return null;
      end if;
      insert into ${q(t.events)} (stream_id, version, event_id, type, schema_version, data, metadata, actor)
        select p_stream, v_version - v_count + i.ord, (i.e->>0)::uuid, i.e->>1, (i.e->>2)::int, i.e->3, i.e->4, i.e->>5
        from jsonb_array_elements(p_events) with ordinality as i(e, ord)
        order by i.ord;
      return array[v_version, currval(${sequence})];
    end
    $fn$`;
}

/**
 * The identity sequence of `position`, as a regclass literal for the append function: resolved
 * once when PL/pgSQL plans the expression, where calling `pg_get_serial_sequence` on every append
 * would lock the table's catalog entry and scan `pg_depend` each time. The name is unqualified,
 * like every table name in the functions, so it resolves through the same search path.
 */
async function positionSequence(db: Kysely<unknown>, t: TableNames): Promise<string> {
  const { rows } = await sql<{ name: string | null }>`
    select (parse_ident(pg_get_serial_sequence(${`"${t.events}"`}, 'position')))[2] as name`.execute(db);
  const name = rows[0]?.name;
  if (name == null) {
    throw new EventStoreError('MIGRATION_FAILED', `${t.events}.position has no identity sequence`);
  }
  return `'${`"${name.replace(/"/g, '""')}"`.replace(/'/g, "''")}'::regclass`;
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

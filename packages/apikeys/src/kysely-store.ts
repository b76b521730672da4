/**
 * The key store over kysely: PostgreSQL in production, SQLite (better-sqlite3) embedded. One code
 * path for both; the dialects differ only in the audit table's auto-increment column and the
 * migration lock.
 */
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import { ApiKeyError } from './errors';
import { crc32 } from './key-format';
import { createPostgresInvalidationSignal } from './postgres-invalidation';
import type {
  ApiKeyStore,
  AuditEntry,
  KeyChange,
  ListQuery,
  StoredApiKey,
  StoredKeyStatus,
  UsageDelta,
} from './store';
import type { AuditAction, AuditEvent, InvalidationSignal, Quota, RateLimit } from './types';

/** SQL dialects the store supports. */
export type KeyStoreDialect = 'postgres' | 'sqlite';

/** Options of `createKyselyKeyStore()`. */
export interface KyselyKeyStoreOptions<DB = unknown> {
  /** A Kysely instance on PostgreSQL or SQLite. The store never destroys it. */
  db: Kysely<DB>;
  /**
   * Which SQL dialect `db` speaks.
   * @default detected from the Kysely adapter
   */
  dialect?: KeyStoreDialect;
  /**
   * Prefix of the store's tables (`<prefix>api_keys`, `<prefix>api_key_events`,
   * `<prefix>api_key_migrations`): lower-case letters, digits and `_`.
   * @default ''
   */
  tablePrefix?: string;
}

/** Options of `createSqliteKeyStore()`. */
export interface SqliteKeyStoreOptions {
  /** Database file, created if missing; `:memory:` for a store that lives as long as the process. */
  filename: string;
  /** See `KyselyKeyStoreOptions.tablePrefix`. @default '' */
  tablePrefix?: string;
}

/** Options of `createPostgresKeyStore()`. */
export interface PostgresKeyStoreOptions {
  /** `postgres://user:password@host:5432/db`. */
  connectionString: string;
  /** Pool size. @default 10 */
  maxConnections?: number;
  /** See `KyselyKeyStoreOptions.tablePrefix`. @default '' */
  tablePrefix?: string;
}

interface KeysTable {
  key_id: string;
  prefix: string;
  owner_id: string;
  name: string;
  scopes: string;
  metadata: string;
  sealed: string | null;
  secret_hash: string;
  pepper_id: string;
  secret_sealed: string | null;
  status: string;
  created_at: number | string;
  expires_at: number | string | null;
  disabled_at: number | string | null;
  revoked_at: number | string | null;
  revoked_reason: string | null;
  rotated_at: number | string | null;
  grace_ends_at: number | string | null;
  replaced_by: string | null;
  rotated_from: string | null;
  last_used_at: number | string | null;
  use_count: number | string;
  rate_limit: string | null;
  quota: string | null;
  quota_period: number | string | null;
  quota_used: number | string;
}

interface EventsTable {
  id?: number | string;
  key_id: string;
  owner_id: string;
  action: string;
  actor: string | null;
  reason: string | null;
  at: number | string;
  details: string | null;
}

interface MigrationsTable {
  name: string;
  applied_at: number | string;
}

/** Static names used for typing; the real (prefixed) names are substituted at run time. */
interface Tables {
  api_keys: KeysTable;
  api_key_events: EventsTable;
  api_key_migrations: MigrationsTable;
}

type Db = Kysely<Tables>;
type Executor = Kysely<Tables> | Transaction<Tables>;

interface Names {
  keys: 'api_keys';
  events: 'api_key_events';
  migrations: 'api_key_migrations';
}

interface Migration {
  name: string;
  up(db: Executor, names: Names, dialect: KeyStoreDialect): Promise<void>;
}

const MIGRATIONS: readonly Migration[] = [
  {
    name: '001_api_keys',
    async up(db, names, dialect) {
      await db.schema
        .createTable(names.keys)
        .addColumn('key_id', 'text', (c) => c.primaryKey())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('sealed', 'text')
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('pepper_id', 'text', (c) => c.notNull())
        .addColumn('secret_sealed', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('disabled_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoked_reason', 'text')
        .addColumn('rotated_at', 'bigint')
        .addColumn('grace_ends_at', 'bigint')
        .addColumn('replaced_by', 'text')
        .addColumn('rotated_from', 'text')
        .addColumn('last_used_at', 'bigint')
        .addColumn('use_count', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('rate_limit', 'text')
        .addColumn('quota', 'text')
        .addColumn('quota_period', 'bigint')
        .addColumn('quota_used', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex(`${names.keys}_owner_idx`)
        .on(names.keys)
        .columns(['owner_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex(`${names.keys}_expiry_idx`)
        .on(names.keys)
        .columns(['status', 'expires_at'])
        .execute();
      let events = db.schema.createTable(names.events);
      events =
        dialect === 'postgres'
          ? events.addColumn('id', 'bigserial', (c) => c.primaryKey())
          : events.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
      await events
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor', 'text')
        .addColumn('reason', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('details', 'text')
        .execute();
      await db.schema
        .createIndex(`${names.events}_key_idx`)
        .on(names.events)
        .columns(['key_id', 'id'])
        .execute();
    },
  },
];

/** Keys per UPDATE statement on PostgreSQL (5 parameters each, far below the 65,535 limit). */
const USAGE_CHUNK = 1000;

const TABLE_PREFIX = /^[a-z][a-z0-9_]{0,30}$|^$/;

function detectDialect(db: Kysely<unknown>): KeyStoreDialect {
  // Adapters are compared by class name as well, so a Kysely from another installed copy still works.
  const adapter = db.getExecutor().adapter as object;
  const name = adapter.constructor?.name ?? '';
  if (name.includes('Postgres')) return 'postgres';
  if (name.includes('Sqlite')) return 'sqlite';
  throw new ApiKeyError(
    'INVALID_OPTIONS',
    `Cannot tell the SQL dialect of this Kysely instance (${name || 'unknown adapter'}); pass dialect: 'postgres' | 'sqlite'`,
  );
}

const num = (value: number | string): number => (typeof value === 'number' ? value : Number(value));
const numOrNull = (value: number | string | null): number | null => (value === null ? null : num(value));

function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

function toRow(key: StoredApiKey): KeysTable {
  return {
    key_id: key.keyId,
    prefix: key.prefix,
    owner_id: key.ownerId,
    name: key.name,
    scopes: JSON.stringify(key.scopes),
    metadata: key.metadata,
    sealed: key.sealed,
    secret_hash: key.secretHash,
    pepper_id: key.pepperId,
    secret_sealed: key.secretSealed,
    status: key.status,
    created_at: key.createdAt,
    expires_at: key.expiresAt,
    disabled_at: key.disabledAt,
    revoked_at: key.revokedAt,
    revoked_reason: key.revokedReason,
    rotated_at: key.rotatedAt,
    grace_ends_at: key.graceEndsAt,
    replaced_by: key.replacedBy,
    rotated_from: key.rotatedFrom,
    last_used_at: key.lastUsedAt,
    use_count: key.useCount,
    rate_limit: key.rateLimit === null ? null : JSON.stringify(key.rateLimit),
    quota: key.quota === null ? null : JSON.stringify(key.quota),
    quota_period: key.quotaPeriod,
    quota_used: key.quotaUsed,
  };
}

function fromRow(row: KeysTable): StoredApiKey {
  return {
    keyId: row.key_id,
    prefix: row.prefix,
    ownerId: row.owner_id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    metadata: row.metadata,
    sealed: row.sealed,
    secretHash: row.secret_hash,
    pepperId: row.pepper_id,
    secretSealed: row.secret_sealed,
    status: row.status as StoredKeyStatus,
    createdAt: num(row.created_at),
    expiresAt: numOrNull(row.expires_at),
    disabledAt: numOrNull(row.disabled_at),
    revokedAt: numOrNull(row.revoked_at),
    revokedReason: row.revoked_reason,
    rotatedAt: numOrNull(row.rotated_at),
    graceEndsAt: numOrNull(row.grace_ends_at),
    replacedBy: row.replaced_by,
    rotatedFrom: row.rotated_from,
    lastUsedAt: numOrNull(row.last_used_at),
    useCount: num(row.use_count),
    rateLimit: parseJson<RateLimit>(row.rate_limit),
    quota: parseJson<Quota>(row.quota),
    quotaPeriod: numOrNull(row.quota_period),
    quotaUsed: num(row.quota_used),
  };
}

const CHANGE_COLUMNS: Record<keyof KeyChange, keyof KeysTable> = {
  status: 'status',
  disabledAt: 'disabled_at',
  revokedAt: 'revoked_at',
  revokedReason: 'revoked_reason',
  rotatedAt: 'rotated_at',
  graceEndsAt: 'grace_ends_at',
  replacedBy: 'replaced_by',
};

function changeRow(change: KeyChange): Partial<KeysTable> {
  const row: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(change)) {
    if (value !== undefined) row[CHANGE_COLUMNS[field as keyof KeyChange]] = value;
  }
  return row as Partial<KeysTable>;
}

function eventRow(entry: AuditEntry): EventsTable {
  return {
    key_id: entry.keyId,
    owner_id: entry.ownerId,
    action: entry.action,
    actor: entry.actor,
    reason: entry.reason,
    at: entry.at,
    details: entry.details === null ? null : JSON.stringify(entry.details),
  };
}

/** Turns driver failures into a typed error; the driver's message stays in `cause`, not in ours. */
async function guarded<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    if (cause instanceof ApiKeyError) throw cause;
    throw new ApiKeyError('STORE_UNAVAILABLE', `API key store failed to ${operation}`, { cause });
  }
}

class KyselyKeyStore implements ApiKeyStore {
  readonly #db: Db;
  readonly #dialect: KeyStoreDialect;
  readonly #names: Names;
  readonly #owned: boolean;
  readonly invalidationSignal?: () => InvalidationSignal;

  constructor(
    db: Kysely<unknown>,
    dialect: KeyStoreDialect,
    tablePrefix: string,
    owned: boolean,
    invalidationSignal?: () => InvalidationSignal,
  ) {
    this.#db = db as unknown as Db;
    this.#dialect = dialect;
    // The literal types are what kysely checks columns against; the strings are the real names.
    this.#names = {
      keys: `${tablePrefix}api_keys` as 'api_keys',
      events: `${tablePrefix}api_key_events` as 'api_key_events',
      migrations: `${tablePrefix}api_key_migrations` as 'api_key_migrations',
    };
    this.#owned = owned;
    if (invalidationSignal !== undefined) this.invalidationSignal = invalidationSignal;
  }

  migrate(): Promise<void> {
    return guarded('migrate', async () => {
      const names = this.#names;
      await this.#db.transaction().execute(async (trx) => {
        if (this.#dialect === 'postgres') {
          // Several instances starting together: one migrates, the others wait and find it done.
          // The lock comes first: concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL.
          await sql`select pg_advisory_xact_lock(${crc32(names.migrations)})`.execute(trx);
        }
        await trx.schema
          .createTable(names.migrations)
          .ifNotExists()
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('applied_at', 'bigint', (c) => c.notNull())
          .execute();
        const applied = new Set(
          (await trx.selectFrom(names.migrations).select('name').execute()).map((row) => row.name),
        );
        for (const migration of MIGRATIONS) {
          if (applied.has(migration.name)) continue;
          await migration.up(trx, names, this.#dialect);
          await trx
            .insertInto(names.migrations)
            .values({ name: migration.name, applied_at: Date.now() })
            .execute();
        }
      });
    });
  }

  insert(key: StoredApiKey, audit: AuditEntry): Promise<void> {
    return guarded('insert a key', () =>
      this.#db.transaction().execute(async (trx) => {
        await trx.insertInto(this.#names.keys).values(toRow(key)).execute();
        await trx.insertInto(this.#names.events).values(eventRow(audit)).execute();
      }),
    );
  }

  find(keyId: string): Promise<StoredApiKey | undefined> {
    return guarded('read a key', async () => {
      const row = await this.#db
        .selectFrom(this.#names.keys)
        .selectAll()
        .where('key_id', '=', keyId)
        .executeTakeFirst();
      return row === undefined ? undefined : fromRow(row);
    });
  }

  listByOwner(query: ListQuery): Promise<StoredApiKey[]> {
    return guarded('list keys', async () => {
      if (query.statuses.length === 0) return [];
      const rows = await this.#db
        .selectFrom(this.#names.keys)
        .selectAll()
        .where('owner_id', '=', query.ownerId)
        .where('status', 'in', [...query.statuses])
        .orderBy('created_at', 'desc')
        .orderBy('key_id')
        .limit(query.limit)
        .execute();
      return rows.map(fromRow);
    });
  }

  update(
    keyId: string,
    fromStatuses: readonly StoredKeyStatus[],
    change: KeyChange,
    audit: AuditEntry,
  ): Promise<boolean> {
    return guarded('update a key', () =>
      this.#db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable(this.#names.keys)
          .set(changeRow(change))
          .where('key_id', '=', keyId)
          .where('status', 'in', [...fromStatuses])
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        await trx.insertInto(this.#names.events).values(eventRow(audit)).execute();
        return true;
      }),
    );
  }

  rotate(
    oldKeyId: string,
    change: KeyChange,
    replacement: StoredApiKey,
    audits: AuditEntry[],
  ): Promise<boolean> {
    return guarded('rotate a key', () =>
      this.#db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable(this.#names.keys)
          .set(changeRow(change))
          .where('key_id', '=', oldKeyId)
          .where('status', '=', 'active')
          .where('disabled_at', 'is', null)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        await trx.insertInto(this.#names.keys).values(toRow(replacement)).execute();
        for (const audit of audits)
          await trx.insertInto(this.#names.events).values(eventRow(audit)).execute();
        return true;
      }),
    );
  }

  rehash(
    keyId: string,
    fromHash: string,
    toHash: string,
    pepperId: string,
    audit: AuditEntry,
  ): Promise<boolean> {
    return guarded('re-hash a key', () =>
      this.#db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable(this.#names.keys)
          .set({ secret_hash: toHash, pepper_id: pepperId })
          .where('key_id', '=', keyId)
          .where('secret_hash', '=', fromHash)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        await trx.insertInto(this.#names.events).values(eventRow(audit)).execute();
        return true;
      }),
    );
  }

  appendAudit(audit: AuditEntry): Promise<void> {
    return guarded('append to the audit trail', async () => {
      await this.#db.insertInto(this.#names.events).values(eventRow(audit)).execute();
    });
  }

  recordUsage(deltas: readonly UsageDelta[]): Promise<void> {
    if (deltas.length === 0) return Promise.resolve();
    // One order for every instance: concurrent flushes lock the same rows in the same order.
    const sorted = [...deltas].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
    return guarded('record usage', () =>
      this.#db.transaction().execute(async (trx) => {
        if (this.#dialect === 'postgres') {
          for (let i = 0; i < sorted.length; i += USAGE_CHUNK)
            await this.#recordUsageBulk(trx, sorted.slice(i, i + USAGE_CHUNK));
          return;
        }
        for (const delta of sorted) await this.#recordUsageRow(trx, delta);
      }),
    );
  }

  /** PostgreSQL: lock the rows in key order, then one UPDATE ... FROM (VALUES ...) per chunk. */
  async #recordUsageBulk(trx: Transaction<Tables>, chunk: readonly UsageDelta[]): Promise<void> {
    const table = sql.table(this.#names.keys);
    const ids = chunk.map((d) => d.keyId);
    await sql`select key_id from ${table} where key_id in (${sql.join(ids)}) order by key_id for update`.execute(
      trx,
    );
    const values = sql.join(
      chunk.map(
        (d) =>
          sql`(${d.keyId}::text, ${d.uses}::bigint, ${d.lastUsedAt}::bigint, ${d.quotaPeriod}::bigint, ${d.quotaUses}::bigint)`,
      ),
    );
    await sql`update ${table} as k set
        use_count = k.use_count + v.uses,
        last_used_at = greatest(k.last_used_at, v.last_used_at),
        quota_used = case
          when v.quota_period is null or v.quota_uses = 0 then k.quota_used
          when k.quota_period = v.quota_period then k.quota_used + v.quota_uses
          when k.quota_period is null or k.quota_period < v.quota_period then v.quota_uses
          else k.quota_used end,
        quota_period = case
          when v.quota_period is not null and v.quota_uses > 0 and (k.quota_period is null or k.quota_period < v.quota_period)
          then v.quota_period else k.quota_period end
      from (values ${values}) as v(key_id, uses, last_used_at, quota_period, quota_uses)
      where k.key_id = v.key_id`.execute(trx);
  }

  /** SQLite: one prepared UPDATE per key inside the transaction (SQLite has one writer anyway). */
  async #recordUsageRow(trx: Transaction<Tables>, delta: UsageDelta): Promise<void> {
    const t = sql`cast(${delta.lastUsedAt} as bigint)`;
    let update = trx
      .updateTable(this.#names.keys)
      .set({
        use_count: sql`use_count + ${delta.uses}`,
        last_used_at: sql`case when last_used_at is null or last_used_at < ${t} then ${t} else last_used_at end`,
      })
      .where('key_id', '=', delta.keyId);
    if (delta.quotaPeriod !== null && delta.quotaUses > 0) {
      const p = sql`cast(${delta.quotaPeriod} as bigint)`;
      // Counts of one period add up across instances; a newer period starts over; an older one
      // (a slow instance) is dropped.
      update = update.set({
        quota_used: sql`case when quota_period = ${p} then quota_used + ${delta.quotaUses} when quota_period is null or quota_period < ${p} then cast(${delta.quotaUses} as bigint) else quota_used end`,
        quota_period: sql`case when quota_period is null or quota_period < ${p} then ${p} else quota_period end`,
      });
    }
    await update.execute();
  }

  dueForRotation(now: number, before: number, limit: number): Promise<StoredApiKey[]> {
    return guarded('find keys due for rotation', async () => {
      const rows = await this.#db
        .selectFrom(this.#names.keys)
        .selectAll()
        .where('status', '=', 'active')
        .where('disabled_at', 'is', null)
        .where('expires_at', '>', now)
        .where('expires_at', '<=', before)
        .orderBy('expires_at')
        .limit(limit)
        .execute();
      return rows.map(fromRow);
    });
  }

  auditTrail(keyId: string): Promise<AuditEvent[]> {
    return guarded('read the audit trail', async () => {
      const rows = await this.#db
        .selectFrom(this.#names.events)
        .selectAll()
        .where('key_id', '=', keyId)
        .orderBy('id')
        .execute();
      return rows.map((row) => ({
        keyId: row.key_id,
        ownerId: row.owner_id,
        action: row.action as AuditAction,
        actor: row.actor,
        reason: row.reason,
        at: new Date(num(row.at)),
        details: parseJson<Record<string, unknown>>(row.details),
      }));
    });
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#db.destroy();
  }
}

function checkPrefix(tablePrefix: string | undefined): string {
  const prefix = tablePrefix ?? '';
  if (typeof prefix !== 'string' || !TABLE_PREFIX.test(prefix)) {
    throw new ApiKeyError(
      'INVALID_OPTIONS',
      'tablePrefix must be lower-case letters, digits and _ (at most 31)',
    );
  }
  return prefix;
}

/**
 * A key store on a Kysely instance you own (PostgreSQL or SQLite). Call `migrate()` once, or let the
 * manager do it (its `migrate` option).
 *
 * @example
 * ```ts
 * const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString }) }) });
 * const store = createKyselyKeyStore({ db });
 * ```
 */
export function createKyselyKeyStore<DB>(options: KyselyKeyStoreOptions<DB>): ApiKeyStore {
  const db = options?.db as Kysely<unknown> | undefined;
  if (db === undefined || typeof db.getExecutor !== 'function') {
    throw new ApiKeyError('INVALID_OPTIONS', 'db must be a Kysely instance');
  }
  const dialect = options.dialect ?? detectDialect(db);
  if (dialect !== 'postgres' && dialect !== 'sqlite') {
    throw new ApiKeyError('INVALID_OPTIONS', "dialect must be 'postgres' or 'sqlite'");
  }
  return new KyselyKeyStore(db, dialect, checkPrefix(options.tablePrefix), false);
}

/**
 * The embedded store: SQLite in a file through better-sqlite3 (an optional peer dependency, loaded
 * on first use). WAL mode, so readers never wait for the usage flush.
 *
 * @example
 * ```ts
 * const store = createSqliteKeyStore({ filename: './data/api-keys.db' });
 * ```
 */
export function createSqliteKeyStore(options: SqliteKeyStoreOptions): ApiKeyStore {
  if (typeof options?.filename !== 'string' || options.filename === '') {
    throw new ApiKeyError('INVALID_OPTIONS', 'filename must name a SQLite database file (or :memory:)');
  }
  const { filename } = options;
  const db = new Kysely<unknown>({
    dialect: new SqliteDialect({
      database: async () => {
        const { default: Database } = await import('better-sqlite3');
        const database = new Database(filename);
        if (filename !== ':memory:') database.pragma('journal_mode = WAL');
        database.pragma('busy_timeout = 5000');
        return database;
      },
    }),
  });
  return new KyselyKeyStore(db, 'sqlite', checkPrefix(options.tablePrefix), true);
}

/**
 * A PostgreSQL store with its own pool, through pg (an optional peer dependency, loaded on first use).
 * Without Redis, managers on this store tell each other about revocations with LISTEN / NOTIFY on
 * one more connection each.
 *
 * @example
 * ```ts
 * const store = createPostgresKeyStore({ connectionString: process.env.DATABASE_URL! });
 * ```
 */
export function createPostgresKeyStore(options: PostgresKeyStoreOptions): ApiKeyStore {
  if (typeof options?.connectionString !== 'string' || options.connectionString === '') {
    throw new ApiKeyError('INVALID_OPTIONS', 'connectionString must be a PostgreSQL URL');
  }
  const { connectionString, maxConnections = 10 } = options;
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({
      pool: async () => {
        const { default: pg } = await import('pg');
        return new pg.Pool({ connectionString, max: maxConnections });
      },
    }),
  });
  const tablePrefix = checkPrefix(options.tablePrefix);
  // Instances sharing these tables share the channel; another table prefix is another fleet.
  const channel = `${tablePrefix}api_keys_invalidate`;
  return new KyselyKeyStore(db, 'postgres', tablePrefix, true, () =>
    createPostgresInvalidationSignal({ connectionString, channel }),
  );
}

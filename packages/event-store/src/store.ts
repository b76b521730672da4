import { runWithContext } from '@plat/core';
import { type Kysely, PostgresAdapter, type RawBuilder, SqliteAdapter, sql, type Transaction } from 'kysely';
import {
  type AppendAttempt,
  appendPostgres,
  appendSqlite,
  checkExpectedVersion,
  checkStreamId,
  diagnoseRefusal,
  hasJsonAppend,
  isDuplicateEventId,
  type PreparedEvent,
  prepareEvents,
} from './append';
import { Checkpoints } from './checkpoints';
import { compareCursors, formatCursor, parseCursor, START_CURSOR } from './cursor';
import { EventStoreError } from './errors';
import { causingEvent, contextMetadata, loadTraceApi } from './metadata';
import { migrateToLatest } from './migrations';
import { type EventRow, eventColumns, nullColumns, toEvents } from './rows';
import { type Deliver, type RunnerSettings, type SubscriptionHost, SubscriptionRunner } from './subscription';
import { lockClass, type TableNames, tableNames } from './tables';
import type {
  AggregateOptions,
  AggregateResult,
  AppendOptions,
  AppendResult,
  AsyncProjection,
  AuditEntry,
  AuditPage,
  AuditQuery,
  EventInput,
  EventMetadata,
  EventStoreDialect,
  EventStoreOptions,
  ExpectedVersion,
  InlineProjection,
  LogPage,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamSlice,
  SubscribeOptions,
  Subscription,
} from './types';
import { UpcasterChain } from './upcasting';
import { Wakeups } from './wakeups';

const DEFAULT_READ_ALL_LIMIT = 1000;
const MAX_READ_LIMIT = 10_000;
/** Events per replay page: a 10,000-event stream replays in one round trip. */
const REPLAY_PAGE = 10_000;
const MAX_APPEND_ATTEMPTS = 5;

/** Thrown inside a projection transaction to roll it back when its checkpoint moved underneath. */
class CheckpointMoved extends Error {}

/** Shared state of a store and of its transaction-bound views. */
interface Core {
  readonly db: Kysely<unknown>;
  readonly dialect: EventStoreDialect;
  readonly t: TableNames;
  readonly upcasters: UpcasterChain;
  readonly inline: readonly InlineProjection<unknown>[];
  readonly metadata: (() => Record<string, unknown> | undefined) | undefined;
  readonly wakeups: Wakeups;
  readonly checkpoints: Checkpoints;
  readonly subscriptions: Set<SubscriptionRunner>;
  /**
   * PostgreSQL: whether migration 0002's append function is there, and when that was last asked.
   * Asked once; while it is missing, again at most once a minute (another instance may migrate).
   */
  readonly jsonAppend: { available: boolean | undefined; checkedAt: number };
}

const JSON_APPEND_RECHECK_MS = 60_000;

function detectDialect(db: Kysely<unknown>): EventStoreDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'postgres';
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  // Another copy of kysely: fall back to the adapter's class name.
  const name = adapter.constructor.name;
  if (name.startsWith('Postgres')) return 'postgres';
  if (name.startsWith('Sqlite')) return 'sqlite';
  throw new EventStoreError(
    'INVALID_OPTIONS',
    `Unsupported Kysely dialect (${name}): use PostgresDialect or SqliteDialect, or set dialect`,
  );
}

function checkLimit(
  value: number | undefined,
  fallback: number,
  argument: string,
  max = MAX_READ_LIMIT,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new EventStoreError('INVALID_ARGUMENT', `${argument} must be an integer from 1 to ${max}`, {
      details: { argument },
    });
  }
  return value;
}

function checkVersionArg(value: number | undefined, argument: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new EventStoreError('INVALID_ARGUMENT', `${argument} must be an integer ≥ 0`, {
      details: { argument },
    });
  }
  return value;
}

/** Accepts a Date, an ISO string or epoch milliseconds; `INVALID_ARGUMENT` otherwise. */
export function toDate(value: Date | string | number, argument: string): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new EventStoreError('INVALID_ARGUMENT', `${argument} is not a valid date or time`, {
      details: { argument },
    });
  }
  return date;
}

/** `LIKE` pattern matching ids that start with `prefix` (escaping `%`, `_` and `\`). */
function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function inList(values: readonly string[]): RawBuilder<unknown> {
  return sql`(${sql.join(values.map((v) => sql`${v}`))})`;
}

function isAlreadyAStoreError(error: unknown): boolean {
  return error instanceof EventStoreError;
}

/** Wraps driver errors so callers get a typed code; our own errors pass through untouched. */
function storageFailure(error: unknown, what: string): unknown {
  if (isAlreadyAStoreError(error)) return error;
  if (error instanceof CheckpointMoved) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new EventStoreError('STORAGE_FAILED', `${what} failed: ${message}`, { cause: error });
}

/**
 * The event store. Create it with `createEventStore`; `transaction()` hands out views of the same
 * store bound to one database transaction.
 */
export class EventStore<DB = unknown> implements SubscriptionHost {
  readonly #core: Core;
  readonly #exec: Kysely<unknown>;
  /** Set on transaction views: appends made through the view, to announce after commit. */
  readonly #inTransaction: { wrote: boolean } | undefined;

  /** @internal use `createEventStore` */
  constructor(core: Core, exec: Kysely<unknown>, inTransaction: { wrote: boolean } | undefined) {
    this.#core = core;
    this.#exec = exec;
    this.#inTransaction = inTransaction;
  }

  /** The dialect in use. */
  get dialect(): EventStoreDialect {
    return this.#core.dialect;
  }

  /** The table names in use. */
  get tables(): TableNames {
    return this.#core.t;
  }

  /** The Kysely instance (or transaction, on a transaction view) the store runs on. */
  get db(): Kysely<DB> {
    return this.#exec as unknown as Kysely<DB>;
  }

  /**
   * The stored checkpoint of a subscription or projection, or undefined before its first run.
   *
   * @example
   * ```ts
   * const cursor = await store.checkpoint('emails'); // '812:40211'
   * ```
   */
  async checkpoint(name: string): Promise<string | undefined> {
    return (await this.#core.checkpoints.get(name))?.cursor;
  }

  /** @internal */
  get checkpoints(): Checkpoints {
    return this.#core.checkpoints;
  }

  /** @internal */
  get wakeups(): Wakeups {
    return this.#core.wakeups;
  }

  /**
   * Creates or upgrades the store's tables with Kysely's `Migrator`; returns the migrations applied.
   *
   * @example
   * ```ts
   * await store.migrate();
   * ```
   */
  async migrate(): Promise<string[]> {
    const applied = await migrateToLatest(this.#core.db, this.#core.dialect, this.#core.t);
    this.#core.jsonAppend.available = undefined;
    return applied;
  }

  /** See `Core.jsonAppend`. Answers without awaiting once known, so the append path pays no extra tick. */
  #jsonAppendAvailable(): boolean | Promise<boolean> {
    const state = this.#core.jsonAppend;
    if (state.available === true) return true;
    const now = Date.now();
    if (state.available === false && now - state.checkedAt < JSON_APPEND_RECHECK_MS) return false;
    return hasJsonAppend(this.#core.db, this.#core.t).then((found) => {
      state.available = found;
      state.checkedAt = now;
      return found;
    });
  }

  /**
   * Appends events to a stream if it is at the expected version. Metadata (actor, request id,
   * correlation and causation ids, trace id) is filled in from the request context. Appending
   * event ids that are already stored returns the original result and writes nothing.
   *
   * @example
   * ```ts
   * const { nextExpectedVersion } = await store.append('cart-42', [{ type: 'ItemAdded', data: { sku: 'A1' } }], {
   *   expectedVersion: 3,
   * });
   * ```
   */
  async append(
    streamId: string,
    events: readonly EventInput[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    checkStreamId(streamId);
    const expected = checkExpectedVersion(options.expectedVersion ?? 'any');
    await loadTraceApi();
    const metadata = contextMetadata(options.causedBy, this.#core.metadata?.(), options.metadata);
    const prepared = prepareEvents(events, metadata);
    if (prepared.length === 0) return this.#appendNothing(streamId, expected);
    return this.#appendPrepared(streamId, prepared, expected);
  }

  async #appendNothing(streamId: string, expected: ExpectedVersion): Promise<AppendResult> {
    const slice = await this.readStream(streamId, { maxCount: 1, backwards: true, includeDeleted: true });
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && !slice.exists) ||
      (expected === 'stream_exists' && slice.exists) ||
      expected === slice.version;
    if (!ok) {
      throw new EventStoreError(
        'WRONG_EXPECTED_VERSION',
        `Stream ${streamId} is at version ${slice.version}, expected ${String(expected)}`,
        { details: { streamId, expectedVersion: expected, actualVersion: slice.version } },
      );
    }
    return {
      streamId,
      nextExpectedVersion: slice.version,
      position: slice.events[0]?.position ?? 0,
      idempotent: false,
    };
  }

  async #appendPrepared(
    streamId: string,
    prepared: PreparedEvent[],
    expected: ExpectedVersion,
  ): Promise<AppendResult> {
    const core = this.#core;
    for (let attempt = 1; ; attempt++) {
      let written: AppendAttempt | undefined;
      try {
        written = await this.#attempt(streamId, prepared, expected);
      } catch (error) {
        if (!isDuplicateEventId(error, core.t)) throw storageFailure(error, 'append');
        if (this.#inTransaction !== undefined && core.dialect === 'postgres') {
          // The statement error aborted the caller's transaction: nothing more can run in it.
          throw new EventStoreError(
            'DUPLICATE_EVENT_ID',
            `An event id of this append is already stored (stream ${streamId}); the transaction is aborted`,
            { details: { streamId }, cause: error },
          );
        }
      }
      if (written !== undefined) {
        if (this.#inTransaction === undefined) core.wakeups.committed();
        else this.#inTransaction.wrote = true;
        return {
          streamId,
          nextExpectedVersion: written.version,
          position: written.position,
          idempotent: false,
        };
      }
      let outcome: AppendResult | 'retry';
      try {
        outcome = await diagnoseRefusal(this.#exec, core.t, core.dialect, streamId, prepared, expected);
      } catch (error) {
        throw storageFailure(error, 'append');
      }
      if (outcome !== 'retry') return outcome;
      if (attempt >= MAX_APPEND_ATTEMPTS) {
        throw new EventStoreError('STORAGE_FAILED', `Append to ${streamId} kept conflicting; try again`, {
          details: { streamId },
        });
      }
    }
  }

  /** One try: the statement (PostgreSQL) or the read-check-write (SQLite), plus inline projections. */
  async #attempt(
    streamId: string,
    prepared: PreparedEvent[],
    expected: ExpectedVersion,
  ): Promise<AppendAttempt | undefined> {
    const { dialect, t, inline } = this.#core;
    const run = async (exec: Kysely<unknown>) => {
      let jsonFunction = false;
      if (dialect === 'postgres' && inline.length === 0) {
        const known = this.#jsonAppendAvailable();
        jsonFunction = typeof known === 'boolean' ? known : await known;
      }
      const written =
        dialect === 'postgres'
          ? await appendPostgres(exec, t, streamId, prepared, expected, inline.length > 0, jsonFunction)
          : await appendSqlite(exec, t, streamId, prepared, expected);
      if (written !== undefined && inline.length > 0) {
        await this.#runInline(exec as Transaction<unknown>, streamId, prepared, written);
      }
      return written;
    };
    // PostgreSQL without inline projections: a single statement is its own transaction.
    if (this.#inTransaction !== undefined || (dialect === 'postgres' && inline.length === 0)) {
      return run(this.#exec);
    }
    return this.#exec.transaction().execute(run);
  }

  async #runInline(
    trx: Transaction<unknown>,
    streamId: string,
    prepared: PreparedEvent[],
    written: AppendAttempt,
  ): Promise<void> {
    const rows = written.rows ?? [];
    const first = written.version - prepared.length + 1;
    const recorded: RecordedEvent[] = prepared.map((event, i) => {
      const row = rows[i];
      const recordedEvent: RecordedEvent = {
        id: event.id,
        streamId,
        version: first + i,
        position: row?.position ?? 0,
        checkpoint: formatCursor(row?.transactionId ?? '0', row?.position ?? 0),
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        schemaVersion: event.schemaVersion,
        recordedAt: row?.recordedAt ?? new Date(),
      };
      return this.#core.upcasters.empty ? recordedEvent : this.#core.upcasters.apply(recordedEvent);
    });
    for (const projection of this.#core.inline) {
      const types = projection.types;
      const events = types === undefined ? recorded : recorded.filter((e) => types.includes(e.type));
      if (events.length > 0) await projection.apply(events, trx);
    }
  }

  /**
   * Reads events of one stream, forwards or backwards, within a version range.
   *
   * @example
   * ```ts
   * const { events, version } = await store.readStream('cart-42', { fromVersion: 10, maxCount: 50 });
   * ```
   */
  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StreamSlice> {
    checkStreamId(streamId);
    const backwards = options.backwards === true;
    const from = checkVersionArg(options.fromVersion, 'fromVersion');
    const to = checkVersionArg(options.toVersion, 'toVersion');
    const maxCount =
      options.maxCount === undefined ? undefined : checkLimit(options.maxCount, 0, 'maxCount', 1e9);
    const { dialect, t } = this.#core;
    const low = backwards ? (to ?? 1) : (from ?? 1);
    const high = backwards ? (from ?? Number.MAX_SAFE_INTEGER) : (to ?? Number.MAX_SAFE_INTEGER);
    const state =
      dialect === 'postgres'
        ? sql`(select version::text || case when deleted_at is null then '' else 'D' end || case when archived_at is null then '' else 'A' end from ${sql.id(t.streams)} where stream_id = ${streamId})`
        : sql`(select version || case when deleted_at is null then '' else 'D' end || case when archived_at is null then '' else 'A' end from ${sql.id(t.streams)} where stream_id = ${streamId})`;
    // The stream's state rides on a header row ahead of the events (one statement, one snapshot,
    // also when there are no events) rather than in a column of every event row.
    let rows: Array<EventRow & { stream_state: string | null }>;
    try {
      ({ rows } = await sql<EventRow & { stream_state: string | null }>`
        select ${sql.raw(nullColumns(dialect, false))}, ${state} as stream_state
        union all
        select *, null from (
          select ${sql.raw(eventColumns(dialect, false))}
          from ${sql.id(t.events)}
          where stream_id = ${streamId} and version >= ${low} and version <= ${high}
          order by ${sql.id(t.events)}.version ${sql.raw(backwards ? 'desc' : 'asc')}
          ${maxCount === undefined ? sql`` : sql`limit ${maxCount}`}
        ) e`.execute(this.#exec));
    } catch (error) {
      throw storageFailure(error, 'readStream');
    }
    // Both engines return UNION ALL branches in order; look further only in case one ever does not.
    let headerIndex = 0;
    if (rows[0]?.event_id != null) {
      headerIndex = rows.findIndex((row) => row.event_id == null);
      rows = [rows[headerIndex]!, ...rows.slice(0, headerIndex), ...rows.slice(headerIndex + 1)];
    }
    const streamState = rows[0]?.stream_state ?? null;
    const exists = streamState !== null;
    const deleted = streamState?.includes('D') === true;
    if (deleted && options.includeDeleted !== true) {
      throw new EventStoreError('STREAM_DELETED', `Stream ${streamId} was deleted`, {
        details: { streamId },
      });
    }
    return {
      streamId,
      version: streamState === null ? 0 : Number.parseInt(streamState, 10),
      exists,
      deleted,
      archived: streamState?.includes('A') === true,
      events: toEvents(rows, dialect, this.#core.upcasters, streamId, 1),
    };
  }

  /**
   * Reads the global log after a checkpoint, in commit-safe order: on PostgreSQL only events of
   * transactions older than every running one are returned, so a page never skips an event that
   * commits later. Filters apply in the database; `next` moves past filtered-out events too.
   *
   * @example
   * ```ts
   * let after: string | undefined;
   * for (;;) {
   *   const page = await store.readAll({ after, limit: 500, types: ['OrderPlaced'] });
   *   for (const event of page.events) handle(event);
   *   after = page.next;
   *   if (page.caughtUp) break;
   * }
   * ```
   */
  async readAll(options: ReadAllOptions = {}): Promise<LogPage> {
    const limit = checkLimit(options.limit, DEFAULT_READ_ALL_LIMIT, 'limit');
    const after = parseCursor(options.after);
    const afterText = formatCursor(after.transactionId, after.position);
    const { dialect, t } = this.#core;
    const filters: RawBuilder<unknown>[] = [];
    if (options.types !== undefined) {
      if (options.types.length === 0) return { events: [], next: afterText, caughtUp: true };
      filters.push(sql`and type in ${inList(options.types)}`);
    }
    if (options.streamPrefix !== undefined && options.streamPrefix !== '') {
      filters.push(sql`and stream_id like ${prefixPattern(options.streamPrefix)} escape '\\'`);
    }
    const where = sql.join(filters, sql` `);
    const columns = sql.raw(eventColumns(dialect));
    let rows: Array<Partial<EventRow> & { bound: string | number }>;
    try {
      if (dialect === 'postgres') {
        // The bound and the page come from one statement, hence one snapshot.
        ({ rows } = await sql<EventRow & { bound: string }>`
          select b.bound, e.* from (select pg_snapshot_xmin(pg_current_snapshot())::text as bound) b
          left join lateral (
            select ${columns} from ${sql.id(t.events)}
            where (transaction_id, position) > (${after.transactionId.toString()}::xid8, ${after.position.toString()}::bigint)
              and transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ${where}
            order by ${sql.id(t.events)}.transaction_id, ${sql.id(t.events)}.position
            limit ${limit}
          ) e on true`.execute(this.#exec));
      } else {
        ({ rows } = await sql<EventRow & { bound: number }>`
          select b.bound, e.* from (select coalesce((select max(position) from ${sql.id(t.events)}), 0) as bound) b
          left join (
            select ${columns} from ${sql.id(t.events)}
            where position > ${Number(after.position)} ${where}
            order by ${sql.id(t.events)}.position
            limit ${limit}
          ) e on 1`.execute(this.#exec));
      }
    } catch (error) {
      throw storageFailure(error, 'readAll');
    }
    const bound = rows[0]?.bound ?? 0;
    const eventRows = (rows[0]?.event_id == null ? [] : rows) as EventRow[];
    if (!isSorted(eventRows)) eventRows.sort(byLogOrder);
    const events = toEvents(eventRows, dialect, this.#core.upcasters);
    if (events.length === limit)
      return { events, next: events[events.length - 1]!.checkpoint, caughtUp: false };
    // Short page: everything below the bound has been read, filtered out or not.
    const horizon = dialect === 'postgres' ? formatCursor(bound, 0) : formatCursor(0, bound);
    const last = events.length > 0 ? events[events.length - 1]!.checkpoint : afterText;
    const next = compareCursors(horizon, last) > 0 ? horizon : last;
    return { events, next, caughtUp: true };
  }

  /** @internal A cursor at or beyond every transaction that has finished at the time of the call. */
  async headCursor(): Promise<string> {
    const { dialect, t } = this.#core;
    if (dialect === 'postgres') {
      const { rows } = await sql<{ xmax: string }>`
        select pg_snapshot_xmax(pg_current_snapshot())::text as xmax`.execute(this.#exec);
      return formatCursor(rows[0]!.xmax, 0);
    }
    const { rows } = await sql<{ max: number | null }>`
      select max(position) as max from ${sql.id(t.events)}`.execute(this.#exec);
    return formatCursor(0, rows[0]?.max ?? 0);
  }

  /** @internal */
  async initialCursor(from: string): Promise<string> {
    if (from === 'start') return START_CURSOR;
    if (from !== 'end') return formatCursor(parseCursor(from).transactionId, parseCursor(from).position);
    const { dialect, t } = this.#core;
    if (dialect === 'postgres') {
      // Everything below the oldest running transaction is the past; whatever is in flight is not.
      const { rows } = await sql<{ xmin: string }>`
        select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`.execute(this.#exec);
      return formatCursor(rows[0]!.xmin, 0);
    }
    const { rows } = await sql<{ max: number | null }>`
      select max(position) as max from ${sql.id(t.events)}`.execute(this.#exec);
    return formatCursor(0, rows[0]?.max ?? 0);
  }

  /**
   * Folds a stream into state, up to a version or a point in time (time travel). With `snapshot`,
   * starts from the latest snapshot at or below the target and stores a new one when the replay
   * crosses a multiple of `every`; the result equals a full replay. System events (`$deleted`,
   * `$archived`) are not passed to `evolve`.
   *
   * @example
   * ```ts
   * const { state, version } = await store.aggregateStream('cart-42', {
   *   evolve: (cart, e) => (e.type === 'ItemAdded' ? { items: [...cart.items, e.data] } : cart),
   *   initialState: () => ({ items: [] }),
   *   upTo: { time: '2026-01-01T12:00:00Z' },
   * });
   * ```
   */
  async aggregateStream<State, E extends RecordedEvent = RecordedEvent>(
    streamId: string,
    options: AggregateOptions<State, E>,
  ): Promise<AggregateResult<State>> {
    checkStreamId(streamId);
    const { dialect, t } = this.#core;
    const { snapshot, upTo } = options;
    if (snapshot !== undefined && (!Number.isSafeInteger(snapshot.every) || snapshot.every < 1)) {
      throw new EventStoreError('INVALID_ARGUMENT', 'snapshot.every must be an integer ≥ 1', {
        details: { argument: 'snapshot.every' },
      });
    }
    // The target is known up front only for time travel (one query) or a version bound; the stream's
    // own version, existence and deletion come with the first page (its header row), so a full
    // replay costs no round trip beyond its pages.
    let target: number | undefined;
    if (upTo !== undefined && 'version' in upTo) {
      target = checkVersionArg(upTo.version, 'upTo.version');
    } else if (upTo !== undefined && 'time' in upTo) {
      const at = toDate(upTo.time, 'upTo.time');
      const bound = dialect === 'postgres' ? at : at.getTime();
      const { rows } = await sql<{ version: string | number | null }>`
        select max(version) as version from ${sql.id(t.events)}
        where stream_id = ${streamId} and recorded_at <= ${bound}`.execute(this.#exec);
      target = Number(rows[0]?.version ?? 0);
    }
    let state = options.initialState();
    let version = 0;
    let snapshotVersion: number | undefined;
    if (snapshot !== undefined && target !== 0) {
      // Without a target, the stream's current version bounds the snapshot, as the replay's will.
      const bound =
        target === undefined
          ? sql`(select version from ${sql.id(t.streams)} where stream_id = ${streamId})`
          : sql`${target}`;
      const { rows } = await sql<{ version: string | number; state: unknown }>`
        select version, state from ${sql.id(t.snapshots)}
        where stream_id = ${streamId} and name = ${snapshot.name} and version <= ${bound}
        order by version desc limit 1`.execute(this.#exec);
      const row = rows[0];
      if (row !== undefined) {
        state = (dialect === 'sqlite' ? JSON.parse(row.state as string) : row.state) as State;
        version = Number(row.version);
        snapshotVersion = version;
      }
    }
    let exists = false;
    let saveAt = 0;
    let toSave: string | undefined;
    let applied = 0;
    let recordedAt: Date | undefined;
    for (let first = true; first || version < target!; first = false) {
      const page = await this.readStream(streamId, {
        fromVersion: version + 1,
        ...(target === undefined ? {} : { toVersion: target }),
        maxCount: REPLAY_PAGE,
        includeDeleted: true,
      });
      if (first) {
        if (page.deleted && options.includeDeleted !== true) {
          throw new EventStoreError('STREAM_DELETED', `Stream ${streamId} was deleted`, {
            details: { streamId },
          });
        }
        exists = page.exists;
        target = Math.min(target ?? page.version, page.version);
        saveAt = snapshot === undefined ? 0 : Math.floor(target / snapshot.every) * snapshot.every;
      }
      if (page.events.length === 0) break;
      for (const event of page.events) {
        if (event.version > target!) break;
        if (!event.type.startsWith('$')) {
          state = options.evolve(state, event as E);
          applied += 1;
        }
        version = event.version;
        recordedAt = event.recordedAt;
        if (version === saveAt && saveAt > (snapshotVersion ?? 0)) toSave = JSON.stringify(state);
      }
    }
    if (toSave !== undefined && snapshot !== undefined) {
      const json = dialect === 'postgres' ? sql`${toSave}::jsonb` : sql`${toSave}`;
      const now = dialect === 'postgres' ? sql`now()` : sql`${Date.now()}`;
      await sql`insert into ${sql.id(t.snapshots)} (stream_id, name, version, state, created_at)
        values (${streamId}, ${snapshot.name}, ${saveAt}, ${json}, ${now})
        on conflict do nothing`
        .execute(this.#exec)
        .catch(() => undefined); // a snapshot is an optimisation: failing to store one is not an error
    }
    return {
      streamId,
      state,
      version,
      exists,
      snapshotVersion,
      eventsApplied: applied,
      recordedAt,
    };
  }

  /**
   * Soft-deletes a stream: appends a `$deleted` event (so the audit log and subscribers see who
   * deleted it) and closes it. Its events stay in the global log; reads need `includeDeleted`.
   *
   * @example
   * ```ts
   * await store.deleteStream('cart-42', { expectedVersion: 7 });
   * ```
   */
  async deleteStream(
    streamId: string,
    options: { expectedVersion?: ExpectedVersion; reason?: string } = {},
  ): Promise<AppendResult> {
    return this.#close(streamId, '$deleted', 'deleted_at', options);
  }

  /**
   * Archives a stream: appends an `$archived` event and makes the stream read-only. Reads, replay
   * and the global log are unaffected.
   *
   * @example
   * ```ts
   * await store.archiveStream('order-2019-0001');
   * ```
   */
  async archiveStream(
    streamId: string,
    options: { expectedVersion?: ExpectedVersion; reason?: string } = {},
  ): Promise<AppendResult> {
    return this.#close(streamId, '$archived', 'archived_at', options);
  }

  async #close(
    streamId: string,
    type: '$deleted' | '$archived',
    column: 'deleted_at' | 'archived_at',
    options: { expectedVersion?: ExpectedVersion; reason?: string },
  ): Promise<AppendResult> {
    checkStreamId(streamId);
    const requested = checkExpectedVersion(options.expectedVersion ?? 'stream_exists');
    // Closing a stream that does not exist makes no sense; 'any' still requires it to exist.
    const expected = requested === 'any' ? 'stream_exists' : requested;
    await loadTraceApi();
    const metadata = contextMetadata(undefined, this.#core.metadata?.());
    const data = options.reason === undefined ? {} : { reason: options.reason };
    const prepared = prepareEvents([{ type, data }], metadata, true);
    const { dialect, t } = this.#core;
    const now = dialect === 'postgres' ? sql`now()` : sql`${Date.now()}`;
    const body = async (view: EventStore<DB>) => {
      const result = await view.#appendPrepared(streamId, prepared, expected);
      if (!result.idempotent) {
        await sql`update ${sql.id(t.streams)} set ${sql.id(column)} = ${now} where stream_id = ${streamId}`.execute(
          view.#exec,
        );
      }
      return result;
    };
    if (this.#inTransaction !== undefined) return body(this);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction((view) => body(view));
      } catch (error) {
        // Our own transaction lost to a newer one: a fresh transaction is newer still.
        if (!(error instanceof EventStoreError && error.code === 'TRANSACTION_CONFLICT') || attempt >= 5)
          throw error;
      }
    }
  }

  /**
   * Runs `fn` in one database transaction with a view of the store bound to it: appends to several
   * streams commit or roll back together, with your own writes on `view.db`.
   *
   * @example
   * ```ts
   * await store.transaction(async (tx) => {
   *   await tx.append('account-1', [{ type: 'Debited', data: { amount: 5 } }], { expectedVersion: 4 });
   *   await tx.append('account-2', [{ type: 'Credited', data: { amount: 5 } }]);
   * });
   * ```
   */
  async transaction<T>(fn: (view: EventStore<DB>) => Promise<T>): Promise<T> {
    if (this.#inTransaction !== undefined) return fn(this);
    const flag = { wrote: false };
    const result = await this.#core.db
      .transaction()
      .execute((trx) => fn(new EventStore<DB>(this.#core, trx as Kysely<unknown>, flag)));
    if (flag.wrote) this.#core.wakeups.committed();
    return result;
  }

  /**
   * Inside `transaction()`, on PostgreSQL: locks streams up front, in a fixed order, before the
   * transaction writes anything. Its appends to them can then neither deadlock with nor lose to
   * other writers (`TRANSACTION_CONFLICT`); they wait for them instead. Outside a transaction view,
   * and on SQLite (one writer at a time), it does nothing.
   *
   * @example
   * ```ts
   * await store.transaction(async (tx) => {
   *   await tx.lockStreams(['account-1', 'account-2']);
   *   await tx.append('account-1', [debit]);
   *   await tx.append('account-2', [credit]);
   * });
   * ```
   */
  async lockStreams(streamIds: readonly string[]): Promise<void> {
    if (this.#inTransaction === undefined || this.#core.dialect !== 'postgres') return;
    const ids = [...new Set(streamIds.map(checkStreamId))].sort();
    if (ids.length === 0) return;
    await sql`select pg_advisory_xact_lock(${lockClass(this.#core.t)}, hashtext(id))
      from unnest(${ids}::text[]) with ordinality as s(id, n) order by n`.execute(this.#exec);
  }

  /**
   * Who changed what and when: events filtered by actor, stream prefix, type and time, newest first
   * by default, paged with `next`.
   *
   * @example
   * ```ts
   * const { entries } = await store.auditLog({ actor: 'user_7', from: '2026-01-01', limit: 50 });
   * ```
   */
  async auditLog(query: AuditQuery = {}): Promise<AuditPage> {
    const limit = checkLimit(query.limit, 100, 'limit');
    const { dialect, t } = this.#core;
    const ascending = query.ascending === true;
    const time = (value: Date | string | number, argument: string) => {
      const date = toDate(value, argument);
      return dialect === 'postgres' ? date : date.getTime();
    };
    const filters: RawBuilder<unknown>[] = [];
    if (query.actor !== undefined) filters.push(sql`and actor = ${query.actor}`);
    if (query.streamPrefix !== undefined && query.streamPrefix !== '')
      filters.push(sql`and stream_id like ${prefixPattern(query.streamPrefix)} escape '\\'`);
    if (query.types !== undefined && query.types.length > 0)
      filters.push(sql`and type in ${inList(query.types)}`);
    if (query.from !== undefined) filters.push(sql`and recorded_at >= ${time(query.from, 'from')}`);
    if (query.to !== undefined) filters.push(sql`and recorded_at < ${time(query.to, 'to')}`);
    if (query.cursor !== undefined) {
      if (!/^\d{1,20}$/.test(query.cursor)) {
        throw new EventStoreError('INVALID_ARGUMENT', 'cursor must be the `next` value of a previous page', {
          details: { argument: 'cursor' },
        });
      }
      filters.push(ascending ? sql`and position > ${query.cursor}` : sql`and position < ${query.cursor}`);
    }
    let rows: Array<EventRow & { actor: string | null }>;
    try {
      ({ rows } = await sql<EventRow & { actor: string | null }>`
        select ${sql.raw(eventColumns(dialect))}, actor from ${sql.id(t.events)}
        where true ${sql.join(filters, sql` `)}
        order by ${sql.id(t.events)}.position ${sql.raw(ascending ? 'asc' : 'desc')}
        limit ${limit}`.execute(this.#exec));
    } catch (error) {
      throw storageFailure(error, 'auditLog');
    }
    const entries: AuditEntry[] = toEvents(rows, dialect, new UpcasterChain([])).map((event, i) => {
      const metadata: EventMetadata = event.metadata;
      const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
      return {
        position: event.position,
        streamId: event.streamId,
        version: event.version,
        type: event.type,
        eventId: event.id,
        actor: rows[i]!.actor ?? undefined,
        requestId: text(metadata.requestId),
        correlationId: text(metadata.correlationId),
        traceId: text(metadata.traceId),
        recordedAt: event.recordedAt,
        metadata,
      };
    });
    const next = entries.length === limit ? String(entries[entries.length - 1]!.position) : undefined;
    return { entries, next };
  }

  /**
   * Starts a durable subscription to the global log: events are handled in order, at least once,
   * and the checkpoint is stored after every batch, so a restarted process resumes where the last
   * one stopped. Wakes on new events in this process, on NOTIFY from others (with `listen`), and
   * polls otherwise.
   *
   * @example
   * ```ts
   * const sub = store.subscribe('emails', {
   *   types: ['OrderPlaced'],
   *   handler: async (event) => sendConfirmation(event.data),
   * });
   * await sub.stop();
   * ```
   */
  subscribe(name: string, options: SubscribeOptions): Subscription {
    const settings = this.#runnerSettings(name, options, 100);
    const handler = options.handler;
    if (typeof handler !== 'function') {
      throw new EventStoreError('INVALID_OPTIONS', 'subscribe: handler must be a function');
    }
    const deliver: Deliver = async (events, next, revision) => {
      await runWithContext({}, async () => {
        for (const event of events) {
          causingEvent.set(event);
          await handler(event, { subscription: name });
        }
      });
      return this.#core.checkpoints.save(name, next, revision);
    };
    return this.#startRunner(name, settings, deliver);
  }

  /**
   * Runs an async projection on a subscription named after it. Each batch and the checkpoint
   * commit in one transaction, so the read model never sees a batch twice.
   *
   * @example
   * ```ts
   * const running = store.startProjection({
   *   name: 'cart-totals',
   *   types: ['ItemAdded'],
   *   handle: async (events, trx) => { ... },
   * });
   * ```
   */
  startProjection(
    projection: AsyncProjection<DB>,
    options: Pick<SubscribeOptions, 'pollIntervalMs' | 'onError' | 'maxRetries'> = {},
  ): Subscription {
    const settings = this.#runnerSettings(
      projection.name,
      {
        ...options,
        handler: () => {},
        ...(projection.types === undefined ? {} : { types: projection.types }),
        ...(projection.streamPrefix === undefined ? {} : { streamPrefix: projection.streamPrefix }),
        ...(projection.batchSize === undefined ? {} : { batchSize: projection.batchSize }),
      },
      500,
    );
    const deliver: Deliver = async (events, next, revision) => {
      try {
        return await this.#core.db.transaction().execute(async (trx) => {
          await runWithContext({}, () => projection.handle(events, trx as Transaction<DB>));
          const saved = await this.#core.checkpoints.save(projection.name, next, revision, trx);
          if (saved === undefined) throw new CheckpointMoved();
          return saved;
        });
      } catch (error) {
        if (error instanceof CheckpointMoved) return undefined;
        throw error;
      }
    };
    return this.#startRunner(projection.name, settings, deliver);
  }

  /**
   * Clears a projection's read model (`reset`) and moves its checkpoint back to the start, in one
   * transaction. A running instance notices at its next batch and replays from zero.
   *
   * @example
   * ```ts
   * await store.rebuildProjection(cartTotals);
   * await store.startProjection(cartTotals).caughtUp();
   * ```
   */
  async rebuildProjection(projection: AsyncProjection<DB>): Promise<void> {
    await this.#core.db.transaction().execute(async (trx) => {
      await projection.reset?.(trx as Transaction<DB>);
      await this.#core.checkpoints.reset(projection.name, START_CURSOR, trx);
    });
    this.#core.wakeups.committed();
  }

  #runnerSettings(name: string, options: SubscribeOptions, defaultBatch: number): RunnerSettings {
    if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
      throw new EventStoreError('INVALID_OPTIONS', 'subscription name must be 1 to 200 characters');
    }
    const from = options.from ?? 'start';
    if (from !== 'start' && from !== 'end') parseCursor(from);
    const poll = options.pollIntervalMs ?? 1000;
    if (!Number.isFinite(poll) || poll < 1) {
      throw new EventStoreError('INVALID_OPTIONS', 'pollIntervalMs must be a positive number');
    }
    return {
      from,
      batchSize: checkLimit(options.batchSize, defaultBatch, 'batchSize'),
      types: options.types,
      streamPrefix: options.streamPrefix,
      pollIntervalMs: poll,
      maxRetries: options.maxRetries ?? Number.POSITIVE_INFINITY,
      onError: options.onError,
    };
  }

  #startRunner(name: string, settings: RunnerSettings, deliver: Deliver): Subscription {
    for (const running of this.#core.subscriptions) {
      if (running.name === name) {
        throw new EventStoreError(
          'INVALID_OPTIONS',
          `Subscription ${name} is already running in this process`,
        );
      }
    }
    const runner = new SubscriptionRunner(this, name, settings, deliver);
    this.#core.subscriptions.add(runner);
    return runner;
  }

  /** @internal */
  forget(runner: SubscriptionRunner): void {
    this.#core.subscriptions.delete(runner);
  }

  /**
   * Stops every subscription and the LISTEN connection. The Kysely instance is yours to destroy.
   *
   * @example
   * ```ts
   * await store.close();
   * await db.destroy();
   * ```
   */
  async close(): Promise<void> {
    await Promise.all([...this.#core.subscriptions].map((s) => s.stop()));
    await this.#core.wakeups.close();
  }
}

function isSorted(rows: readonly EventRow[]): boolean {
  for (let i = 1; i < rows.length; i++) if (byLogOrder(rows[i - 1]!, rows[i]!) > 0) return false;
  return true;
}

function byLogOrder(a: EventRow, b: EventRow): number {
  const ta = BigInt(a.tx);
  const tb = BigInt(b.tx);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return Number(a.position) - Number(b.position);
}

/**
 * Creates an event store on a Kysely instance (PostgreSQL for production, SQLite through
 * better-sqlite3 as the embedded default). Call `migrate()` once before use.
 *
 * @example
 * ```ts
 * const store = createEventStore({ db: new Kysely({ dialect: new PostgresDialect({ pool }) }), listen: pool });
 * await store.migrate();
 * await store.append('cart-42', [{ type: 'CartOpened', data: {} }], { expectedVersion: 'no_stream' });
 * ```
 */
export function createEventStore<DB>(options: EventStoreOptions<DB>): EventStore<DB> {
  if (typeof options !== 'object' || options === null || options.db === undefined) {
    throw new EventStoreError('INVALID_OPTIONS', 'createEventStore: db (a Kysely instance) is required');
  }
  const db = options.db as unknown as Kysely<unknown>;
  const dialect = options.dialect ?? detectDialect(db);
  if (dialect !== 'postgres' && dialect !== 'sqlite') {
    throw new EventStoreError(
      'INVALID_OPTIONS',
      `dialect must be 'postgres' or 'sqlite', got "${String(dialect)}"`,
    );
  }
  const t = tableNames(options.tablePrefix ?? 'es_');
  const channel = dialect === 'postgres' ? (options.notifyChannel ?? `${t.prefix}events`) : undefined;
  void loadTraceApi();
  const core: Core = {
    db,
    dialect,
    t,
    upcasters: new UpcasterChain(options.upcasters ?? []),
    inline: (options.inlineProjections ?? []) as readonly InlineProjection<unknown>[],
    metadata: options.metadata,
    wakeups: new Wakeups(db, channel, dialect === 'postgres' ? options.listen : undefined),
    checkpoints: new Checkpoints(db, t, dialect),
    subscriptions: new Set(),
    jsonAppend: { available: undefined, checkedAt: 0 },
  };
  return new EventStore<DB>(core, db, undefined);
}

import type { PlatMiddleware } from '@plat/core';
import type { Kysely, Transaction } from 'kysely';

/** The SQL engines the store runs on. */
export type EventStoreDialect = 'postgres' | 'sqlite';

/**
 * What the writer expects the stream to look like before its events are appended:
 * - `'any'`: no check;
 * - `'no_stream'`: the stream has no events yet (same as `0`);
 * - `'stream_exists'`: the stream has at least one event;
 * - a number `n`: the stream's current version is exactly `n` (versions count events from 1).
 *
 * Deleted and archived streams refuse every append, whatever the expected version.
 */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

/** Metadata stored with every event. The store fills the well-known fields from the request context. */
export interface EventMetadata {
  /** The principal id from the @plat/core request context (who caused the change). */
  actor?: string;
  /** The request id of the request (or job) that appended the event. */
  requestId?: string;
  /** Ties together every event caused by one original request, across subscriptions. */
  correlationId?: string;
  /** The event id (or request id) that directly caused this event. */
  causationId?: string;
  /** The OpenTelemetry trace id active when the event was appended. */
  traceId?: string;
  /** The OpenTelemetry span id active when the event was appended. */
  spanId?: string;
  /** The tenant from the request context, when there is one. */
  tenantId?: string;
  [key: string]: unknown;
}

/** An event to append. */
export interface EventInput<Type extends string = string, Data = unknown> {
  type: Type;
  /** Any JSON value. */
  data: Data;
  /**
   * A UUID identifying the event. Appending an event id that is already stored is idempotent.
   * @default a new UUID v7 (time-ordered)
   */
  id?: string;
  /** Extra metadata, merged over the metadata taken from the request context. */
  metadata?: Record<string, unknown>;
  /**
   * The version of this event type's data shape; upcasters lift older versions on read.
   * @default 1
   */
  schemaVersion?: number;
}

/** An event as stored, with its place in its stream and in the global log. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  id: string;
  streamId: string;
  /** 1 for the first event of a stream, then 2, 3, ... without gaps. */
  version: number;
  /** The global sequence number. Unique and increasing within a transaction, but may have gaps. */
  position: number;
  /** The cursor of this event in the global log: pass it as `after` to `readAll` to continue after it. */
  checkpoint: string;
  type: Type;
  data: Data;
  metadata: EventMetadata;
  /** The schema version after upcasting. */
  schemaVersion: number;
  recordedAt: Date;
}

/** Options for one `append` call. */
export interface AppendOptions {
  /** @default 'any' */
  expectedVersion?: ExpectedVersion;
  /**
   * The event that caused this append (say, in a subscription handler): its id becomes the
   * causation id and its correlation id is carried over. Inside a subscription handler this is
   * filled in automatically.
   */
  causedBy?: Pick<RecordedEvent, 'id' | 'metadata'>;
  /** Metadata added to every event of this append. */
  metadata?: Record<string, unknown>;
}

/** What an append did. */
export interface AppendResult {
  streamId: string;
  /** The stream's version after the append: pass it as `expectedVersion` for the next one. */
  nextExpectedVersion: number;
  /** The global position of the last appended event. */
  position: number;
  /** True when every event id was already stored: nothing was written and the original result is returned. */
  idempotent: boolean;
}

/** Options for `readStream`. */
export interface ReadStreamOptions {
  /** First version to read (inclusive). @default 1, or the last version when `backwards` */
  fromVersion?: number;
  /** Last version to read (inclusive) in the reading direction's sense. @default no bound */
  toVersion?: number;
  /** @default no limit */
  maxCount?: number;
  /** Newest first. @default false */
  backwards?: boolean;
  /** Read a soft-deleted stream instead of failing with `STREAM_DELETED`. @default false */
  includeDeleted?: boolean;
}

/** A slice of one stream. */
export interface StreamSlice<E extends RecordedEvent = RecordedEvent> {
  streamId: string;
  /** The stream's current version (0 when it does not exist). */
  version: number;
  exists: boolean;
  deleted: boolean;
  archived: boolean;
  events: E[];
}

/** Options for `readAll`. */
export interface ReadAllOptions {
  /** A checkpoint from an event or from a previous page's `next`. @default the start of the log */
  after?: string;
  /** @default 1000 */
  limit?: number;
  /** Only these event types. */
  types?: readonly string[];
  /** Only streams whose id starts with this prefix. */
  streamPrefix?: string;
}

/** One page of the global log. */
export interface LogPage<E extends RecordedEvent = RecordedEvent> {
  events: E[];
  /** Pass as `after` to read on. Moves past filtered-out events too. */
  next: string;
  /** True when the page ended because nothing more is readable yet (rather than at `limit`). */
  caughtUp: boolean;
}

/** Where to replay a stream to. */
export type ReplayTarget = { version: number } | { time: Date | string | number };

/** Snapshot policy for one aggregate. */
export interface SnapshotOptions {
  /**
   * Names the state's shape: change it whenever `evolve` or the state type changes, so old
   * snapshots are ignored rather than misread.
   */
  name: string;
  /** Store a snapshot every this many events. */
  every: number;
}

/** How to fold a stream into state. */
export interface AggregateOptions<State, E extends RecordedEvent = RecordedEvent> {
  evolve: (state: State, event: E) => State;
  /** A fresh initial state for every replay (never a shared mutable object). */
  initialState: () => State;
  /** Replay only up to this version or time. @default the whole stream */
  upTo?: ReplayTarget;
  /** Load the latest snapshot at or below the target, and store new ones while replaying. */
  snapshot?: SnapshotOptions;
  /** Replay a soft-deleted stream. @default false */
  includeDeleted?: boolean;
}

/** The result of a replay. */
export interface AggregateResult<State> {
  streamId: string;
  state: State;
  /** The version the state reflects (0 for the initial state). */
  version: number;
  exists: boolean;
  /** The version of the snapshot the replay started from, when one was used. */
  snapshotVersion: number | undefined;
  /** How many events were applied after the snapshot (or from the start). */
  eventsApplied: number;
  /** When the last applied event was recorded. */
  recordedAt: Date | undefined;
}

/** Lifts one event type's data from `fromSchemaVersion` to `fromSchemaVersion + 1`. */
export interface Upcaster {
  type: string;
  fromSchemaVersion: number;
  upcast: (data: unknown, event: Readonly<RecordedEvent>) => unknown;
  /** Renames the event type while upcasting. */
  toType?: string;
}

/** A projection updated inside the append transaction: it sees the events before anyone else does. */
export interface InlineProjection<DB = unknown> {
  name: string;
  /** Only these event types are passed. @default every type */
  types?: readonly string[];
  apply: (events: readonly RecordedEvent[], trx: Transaction<DB>) => Promise<void> | void;
}

/** A projection fed by a subscription; each batch and its checkpoint commit in one transaction. */
export interface AsyncProjection<DB = unknown> {
  name: string;
  types?: readonly string[];
  streamPrefix?: string;
  handle: (events: readonly RecordedEvent[], trx: Transaction<DB>) => Promise<void> | void;
  /** Clears the read model before a rebuild (in the same transaction as the checkpoint reset). */
  reset?: (trx: Transaction<DB>) => Promise<void> | void;
  /** @default 500 */
  batchSize?: number;
}

/** Something that hands out a dedicated pg client for LISTEN (a `pg.Pool` fits). */
export interface ListenPool {
  connect(): Promise<ListenClient>;
}

/** The part of a `pg` client used for LISTEN. */
export interface ListenClient {
  query(text: string): Promise<unknown>;
  /** `notification` listeners get `{ channel, payload }`, `error` listeners an `Error`. */
  on(event: 'notification' | 'error', listener: (value: never) => void): unknown;
  removeAllListeners(event?: string): unknown;
  release(error?: Error | boolean): void;
}

/** Options for `createEventStore`. */
export interface EventStoreOptions<DB = unknown> {
  /** A Kysely instance on PostgreSQL (`PostgresDialect`) or SQLite (`SqliteDialect`, better-sqlite3). */
  db: Kysely<DB>;
  /** @default detected from the Kysely instance's adapter */
  dialect?: EventStoreDialect;
  /**
   * Prefix of every table the store creates (`es_events`, `es_streams`, ...). Letters, digits and
   * underscores.
   * @default 'es_'
   */
  tablePrefix?: string;
  /** Upcasters applied on every read. @default [] */
  upcasters?: readonly Upcaster[];
  /** Projections run inside every append transaction. @default [] */
  inlineProjections?: readonly InlineProjection<DB>[];
  /**
   * PostgreSQL only: a pool to take one dedicated connection from for LISTEN, so subscriptions in
   * other processes wake up as soon as events commit. Without it they poll.
   * @default undefined (polling, plus in-process wake-ups)
   */
  listen?: ListenPool;
  /**
   * PostgreSQL only: the NOTIFY channel. Appends send at most one NOTIFY at a time per process,
   * after their commit, never inside the append transaction.
   * @default `${tablePrefix}events`
   */
  notifyChannel?: string;
  /** Adds metadata to every event, after the context fields and before the caller's own. */
  metadata?: () => Record<string, unknown> | undefined;
}

/** Options for `subscribe`. */
export interface SubscribeOptions {
  /** Called once per event, in global order. Throwing stops the batch; it is retried (at-least-once). */
  handler: (event: RecordedEvent, context: { subscription: string }) => Promise<void> | void;
  /**
   * Where to start when the subscription has no stored checkpoint yet: the start of the log, its
   * current end, or a checkpoint.
   * @default 'start'
   */
  from?: 'start' | 'end' | string;
  /** Events read and handled per checkpoint. @default 100 */
  batchSize?: number;
  types?: readonly string[];
  streamPrefix?: string;
  /** How long to wait for new events before polling anyway. @default 1000 */
  pollIntervalMs?: number;
  /** Called when the handler or the database fails; the batch is retried after a back-off. */
  onError?: (error: unknown) => void;
  /** Stop after this many failed attempts in a row (`done` then rejects). @default Infinity */
  maxRetries?: number;
}

/** A running subscription. */
export interface Subscription {
  readonly name: string;
  /** The cursor after the last handled batch. */
  readonly checkpoint: string;
  /** Resolves once every event committed before the call has been handled and checkpointed. */
  caughtUp(): Promise<void>;
  /** Finishes the current event, stores the checkpoint and stops. */
  stop(): Promise<void>;
  /** Settles when the subscription stops: resolves on `stop()`, rejects after `maxRetries` failures. */
  readonly done: Promise<void>;
}

/** Options for `auditLog`. */
export interface AuditQuery {
  /** Only events whose actor is this principal id. */
  actor?: string;
  streamPrefix?: string;
  types?: readonly string[];
  /** Recorded at or after. */
  from?: Date | string | number;
  /** Recorded before. */
  to?: Date | string | number;
  /** @default 100 */
  limit?: number;
  /** The `next` value of a previous page. */
  cursor?: string;
  /** Oldest first. @default false (newest first) */
  ascending?: boolean;
}

/** One audit entry: who changed what, when, in which request. */
export interface AuditEntry {
  position: number;
  streamId: string;
  version: number;
  type: string;
  eventId: string;
  actor: string | undefined;
  requestId: string | undefined;
  correlationId: string | undefined;
  traceId: string | undefined;
  recordedAt: Date;
  metadata: EventMetadata;
}

/** One audit page. */
export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `cursor` for the next page; undefined on the last page. */
  next: string | undefined;
}

/**
 * A registered fold for the HTTP state endpoint. Methods (rather than function properties) so
 * that definitions of different state types fit one registry.
 */
export interface AggregateDefinition<State = unknown> {
  evolve(state: State, event: RecordedEvent): State;
  initialState(): State;
  snapshot?: SnapshotOptions;
}

/** Options for the read-only HTTP routes. */
export interface EventStoreRoutesOptions {
  /**
   * Folds for `GET /streams/:id/state`, by name. The name is taken from `?aggregate=`, otherwise
   * from `resolveAggregate`.
   * @default {}
   */
  aggregates?: Readonly<Record<string, AggregateDefinition>>;
  /**
   * Picks the aggregate for a stream id.
   * @default the part of the id before the first `-` (`cart-42` → `cart`)
   */
  resolveAggregate?: (streamId: string) => string | undefined;
  /** Largest page the routes return. @default 1000 */
  maxLimit?: number;
}

/** Options for the framework routers: the routes plus who may call them. */
export interface EventStoreRouterOptions extends EventStoreRoutesOptions {
  /**
   * Runs before every route; return a reply (401/403) to refuse. Required: event history is
   * sensitive, so the router is never mounted open by accident. Pass `() => undefined` to allow all.
   */
  guard: PlatMiddleware;
  /** @default '' */
  prefix?: string;
}

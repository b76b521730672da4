/**
 * Appending: validation, the one-statement PostgreSQL append, the SQLite append, and the diagnosis
 * that turns a refused append into an idempotent success or a precise error.
 */
import { CompiledQuery, type Kysely, type RawBuilder, sql } from 'kysely';
import { EventStoreError } from './errors';
import type { TableNames } from './tables';
import type { AppendResult, EventInput, EventMetadata, EventStoreDialect, ExpectedVersion } from './types';
import { uuidv7 } from './uuid';

/** An event validated and serialised, ready for the database. */
export interface PreparedEvent {
  id: string;
  type: string;
  schemaVersion: number;
  data: unknown;
  dataJson: string;
  metadata: EventMetadata;
  metadataJson: string;
  actor: string | null;
}

/** What the database wrote for one event. */
export interface WrittenRow {
  position: number;
  transactionId: string;
  recordedAt: Date;
}

/** A successful attempt; `rows` only when asked for (inline projections need them). */
export interface AppendAttempt {
  version: number;
  position: number;
  rows: WrittenRow[] | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_EVENTS_PER_APPEND = 10_000;
const MAX_STREAM_ID_LENGTH = 512;
const MAX_TYPE_LENGTH = 256;

/** Checks a stream id; `INVALID_ARGUMENT` when empty, too long or not a string. */
export function checkStreamId(streamId: unknown): string {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > MAX_STREAM_ID_LENGTH) {
    throw new EventStoreError(
      'INVALID_ARGUMENT',
      `streamId must be a non-empty string of at most ${MAX_STREAM_ID_LENGTH} characters`,
      { details: { argument: 'streamId' } },
    );
  }
  return streamId;
}

/** Checks an expected version; `INVALID_ARGUMENT` for anything outside the four forms. */
export function checkExpectedVersion(expected: unknown): ExpectedVersion {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return expected;
  throw new EventStoreError(
    'INVALID_ARGUMENT',
    `expectedVersion must be 'any', 'no_stream', 'stream_exists' or an integer ≥ 0, got ${JSON.stringify(expected) ?? String(expected)}`,
    { details: { argument: 'expectedVersion' } },
  );
}

function invalidEvent(index: number, why: string, cause?: unknown): never {
  throw new EventStoreError('INVALID_EVENT', `Event ${index}: ${why}`, {
    details: { index },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** JSON text of a value, or an `INVALID_EVENT` error naming the event when it has none. */
function toJson(value: unknown, index: number, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    invalidEvent(index, `${what} is not JSON-serialisable`, cause);
  }
  if (json === undefined) invalidEvent(index, `${what} is not JSON-serialisable`);
  return json;
}

/**
 * Validates and serialises events. System types (`$...`) are only written by the store itself.
 * Bad input is an `INVALID_EVENT` error naming the event's index; nothing is written. Events
 * without metadata of their own share the append's metadata object and its JSON text (serialised
 * once per append, not once per event).
 */
export function prepareEvents(
  events: readonly EventInput[],
  metadata: EventMetadata,
  allowSystemTypes = false,
): PreparedEvent[] {
  if (!Array.isArray(events)) {
    throw new EventStoreError('INVALID_EVENT', 'events must be an array');
  }
  if (events.length > MAX_EVENTS_PER_APPEND) {
    throw new EventStoreError('INVALID_EVENT', `At most ${MAX_EVENTS_PER_APPEND} events per append`, {
      details: { count: events.length },
    });
  }
  // Only a batch needs the duplicate check; one event cannot repeat its own id.
  const seen = events.length > 1 ? new Set<string>() : undefined;
  let sharedJson: string | undefined;
  const sharedActor = typeof metadata.actor === 'string' ? metadata.actor : null;
  const prepared = new Array<PreparedEvent>(events.length);
  for (let index = 0; index < events.length; index++) {
    const event = events[index];
    if (typeof event !== 'object' || event === null) invalidEvent(index, 'not an object');
    const { type, data, id, schemaVersion = 1 } = event;
    if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH)
      invalidEvent(index, `type must be a non-empty string of at most ${MAX_TYPE_LENGTH} characters`);
    if (type.charCodeAt(0) === 36 /* $ */ && !allowSystemTypes)
      invalidEvent(index, 'types starting with "$" are reserved for the store');
    if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1)
      invalidEvent(index, 'schemaVersion must be an integer ≥ 1');
    let eventId: string;
    if (id === undefined) eventId = uuidv7();
    else if (typeof id === 'string' && UUID.test(id)) eventId = id.toLowerCase();
    else eventId = invalidEvent(index, 'id must be a UUID');
    if (seen !== undefined) {
      if (seen.has(eventId)) invalidEvent(index, `id ${eventId} appears twice in one append`);
      seen.add(eventId);
    }
    if (data === undefined) invalidEvent(index, 'data is required (use null for no data)');
    const dataJson = toJson(data, index, 'data');
    const own = event.metadata;
    let merged: EventMetadata;
    let metadataJson: string;
    let actor: string | null;
    if (own === undefined) {
      merged = metadata;
      sharedJson ??= toJson(metadata, index, 'metadata');
      metadataJson = sharedJson;
      actor = sharedActor;
    } else {
      if (typeof own !== 'object' || own === null || Array.isArray(own))
        invalidEvent(index, 'metadata must be an object');
      merged = { ...metadata, ...own };
      metadataJson = toJson(merged, index, 'metadata');
      actor = typeof merged.actor === 'string' ? merged.actor : null;
    }
    prepared[index] = {
      id: eventId,
      type,
      schemaVersion,
      data,
      dataJson,
      metadata: merged,
      metadataJson,
      actor,
    };
  }
  return prepared;
}

/** Which writes the expected version allows: bump an existing stream, create a new one, or both. */
function rules(expected: ExpectedVersion): { update: boolean; insert: boolean; exact: number | null } {
  if (expected === 'any') return { update: true, insert: true, exact: null };
  if (expected === 'no_stream' || expected === 0) return { update: false, insert: true, exact: null };
  if (expected === 'stream_exists') return { update: true, insert: false, exact: null };
  return { update: true, insert: false, exact: expected };
}

/**
 * Above this many characters of JSON an append goes through the text-array function instead of
 * the jsonb one: a jsonb value is limited to 256 MB, a text array is not (below the 1 GB message).
 */
export const MAX_JSON_APPEND_CHARS = 16 * 1024 * 1024;

/**
 * The events as the jsonb array `<prefix>append_json` takes: `[id, type, schemaVersion, data,
 * metadata, actor]` per event, concatenated from the JSON `prepareEvents` already produced.
 */
export function encodeEvents(events: readonly PreparedEvent[]): string {
  let json = '[';
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    json += `${i === 0 ? '' : ','}["${e.id}",${JSON.stringify(e.type)},${e.schemaVersion},${e.dataJson},${e.metadataJson},${e.actor === null ? 'null' : JSON.stringify(e.actor)}]`;
  }
  return `${json}]`;
}

/** The append statements of one store, compiled once (they depend only on the table prefix). */
const appendStatements = new WeakMap<TableNames, { json: string; rows: string }>();

function statementsFor(t: TableNames): { json: string; rows: string } {
  let statements = appendStatements.get(t);
  if (statements === undefined) {
    const fn = (name: string) => `"${t.prefix}${name}"`;
    statements = {
      json: `select ${fn('append_json')}($1, $2, $3, $4::bigint, $5::jsonb) as head`,
      rows: `select version, position, tx::text as tx, recorded_at from ${fn('append')}($1, $2, $3, $4::bigint, $5::uuid[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[], $11)`,
    };
    appendStatements.set(t, statements);
  }
  return statements;
}

/**
 * PostgreSQL: one call of an append function the migrations create (see migrations.ts for how it
 * keeps streams in log order). Functions rather than ad-hoc statements because PL/pgSQL caches the
 * plans of its statements: the append is parsed and planned once per connection instead of on
 * every call. Outside a transaction it is one round trip and one implicit transaction. The common
 * case calls `<prefix>append_json` (one jsonb argument, two numbers back); inline projections,
 * which need every written row, and appends too large for one jsonb value call `<prefix>append`.
 * The statement text is compiled once per store and handed to Kysely as a `CompiledQuery`.
 * Undefined means the expected version (or the stream's state) refused it.
 */
export async function appendPostgres(
  db: Kysely<unknown>,
  t: TableNames,
  streamId: string,
  events: readonly PreparedEvent[],
  expected: ExpectedVersion,
  returnRows: boolean,
  jsonFunction = true,
): Promise<AppendAttempt | undefined> {
  const rule = rules(expected);
  const statements = statementsFor(t);
  const json = returnRows || !jsonFunction ? undefined : encodeEvents(events);
  if (json !== undefined && json.length <= MAX_JSON_APPEND_CHARS) {
    const { rows } = await db.executeQuery<{ head: string[] | null }>(
      CompiledQuery.raw(statements.json, [streamId, rule.update, rule.insert, rule.exact, json]),
    );
    const head = rows[0]?.head;
    if (head == null) return undefined;
    return { version: Number(head[0]), position: Number(head[1]), rows: undefined };
  }
  const { rows } = await db.executeQuery<{
    version: string | null;
    position: string | null;
    tx: string | null;
    recorded_at: Date | null;
  }>(
    CompiledQuery.raw(statements.rows, [
      streamId,
      rule.update,
      rule.insert,
      rule.exact,
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => e.schemaVersion),
      events.map((e) => e.dataJson),
      events.map((e) => e.metadataJson),
      events.map((e) => e.actor),
      returnRows,
    ]),
  );
  const last = rows[rows.length - 1];
  if (last?.version == null || last.position == null) return undefined;
  const written = returnRows
    ? rows.map((r) => ({
        position: Number(r.position),
        transactionId: r.tx ?? '0',
        recordedAt: r.recorded_at ?? new Date(),
      }))
    : undefined;
  return { version: Number(last.version), position: Number(last.position), rows: written };
}

/**
 * Whether `<prefix>append_json` (migration 0002) exists. A service upgraded before its database was
 * migrated, as in a rolling deploy where another instance migrates, keeps appending through
 * `<prefix>append` (0001) instead of failing.
 */
export async function hasJsonAppend(db: Kysely<unknown>, t: TableNames): Promise<boolean> {
  const signature = `"${t.prefix}append_json"(text, boolean, boolean, bigint, jsonb)`;
  const { rows } = await db.executeQuery<{ found: boolean }>(
    CompiledQuery.raw('select to_regprocedure($1) is not null as found', [signature]),
  );
  return rows[0]?.found === true;
}

const SQLITE_CHUNK = 500;

/**
 * SQLite: one writer at a time, so a read-check-write inside the (caller's) transaction is safe.
 * Returns undefined when the expected version or the stream's state refuses the append.
 */
export async function appendSqlite(
  trx: Kysely<unknown>,
  t: TableNames,
  streamId: string,
  events: readonly PreparedEvent[],
  expected: ExpectedVersion,
): Promise<AppendAttempt | undefined> {
  const n = events.length;
  const rule = rules(expected);
  const { rows: found } = await sql<{
    version: number;
    deleted_at: number | null;
    archived_at: number | null;
  }>`
    select version, deleted_at, archived_at from ${sql.id(t.streams)} where stream_id = ${streamId}`.execute(
    trx,
  );
  const stream = found[0];
  const now = Date.now();
  let version: number;
  if (stream === undefined) {
    if (!rule.insert) return undefined;
    await sql`insert into ${sql.id(t.streams)} (stream_id, version, created_at, updated_at)
      values (${streamId}, ${n}, ${now}, ${now})`.execute(trx);
    version = n;
  } else {
    if (!rule.update || stream.deleted_at !== null || stream.archived_at !== null) return undefined;
    if (rule.exact !== null && stream.version !== rule.exact) return undefined;
    version = stream.version + n;
    await sql`update ${sql.id(t.streams)} set version = ${version}, updated_at = ${now}
      where stream_id = ${streamId}`.execute(trx);
  }
  const written: WrittenRow[] = [];
  const recordedAt = new Date(now);
  for (let start = 0; start < n; start += SQLITE_CHUNK) {
    const chunk = events.slice(start, start + SQLITE_CHUNK);
    const values = chunk.map(
      (e, i) =>
        sql`(${streamId}, ${version - n + start + i + 1}, ${e.id}, ${e.type}, ${e.schemaVersion}, ${e.dataJson}, ${e.metadataJson}, ${e.actor}, ${now})`,
    );
    const { rows } = await sql<{ position: number }>`
      insert into ${sql.id(t.events)} (stream_id, version, event_id, type, schema_version, data, metadata, actor, recorded_at)
      values ${sql.join(values)} returning position`.execute(trx);
    for (const row of rows) written.push({ position: row.position, transactionId: '0', recordedAt });
  }
  return { version, position: written[written.length - 1]!.position, rows: written };
}

/** True for the unique violation on the event id (the event was stored before). */
export function isDuplicateEventId(error: unknown, t: TableNames): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, constraint, message } = error as { code?: unknown; constraint?: unknown; message?: unknown };
  if (code === '23505') return constraint === `${t.events}_event_id`;
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    typeof message === 'string' &&
    message.includes(`${t.events}.event_id`)
  );
}

/**
 * Explains a refused append. When every event id is already stored in this stream, in the same
 * order, it was a retry of an append that succeeded: the original result comes back. Otherwise a
 * typed error, or 'retry' when an `'any'` append lost the race to create the stream.
 */
export async function diagnoseRefusal(
  db: Kysely<unknown>,
  t: TableNames,
  dialect: EventStoreDialect,
  streamId: string,
  events: readonly PreparedEvent[],
  expected: ExpectedVersion,
): Promise<AppendResult | 'retry'> {
  const ids = events.map((e) => e.id);
  const idList: RawBuilder<unknown> =
    dialect === 'postgres' ? sql`event_id = any(${ids}::uuid[])` : sql`event_id in (${sql.join(ids)})`;
  const { rows: existing } = await sql<{
    event_id: string;
    stream_id: string;
    version: string | number;
    position: string | number;
  }>`select event_id, stream_id, version, position from ${sql.id(t.events)} where ${idList}`.execute(db);
  if (existing.length > 0) {
    const byId = new Map(existing.map((row) => [row.event_id, row]));
    const rows = ids.map((id) => byId.get(id));
    const sameAppend =
      rows.every((row) => row !== undefined && row.stream_id === streamId) &&
      rows.every((row, i) => i === 0 || Number(row!.version) === Number(rows[i - 1]!.version) + 1);
    if (sameAppend) {
      const last = rows[rows.length - 1]!;
      return {
        streamId,
        nextExpectedVersion: Number(last.version),
        position: Number(last.position),
        idempotent: true,
      };
    }
    throw new EventStoreError(
      'DUPLICATE_EVENT_ID',
      `Event id ${existing[0]!.event_id} is already stored for a different event`,
      { details: { streamId, eventIds: existing.map((row) => row.event_id).slice(0, 20) } },
    );
  }
  const newer =
    dialect === 'postgres' ? sql`last_transaction_id > pg_current_xact_id_if_assigned()` : sql`null`;
  const { rows } = await sql<{
    version: string | number;
    deleted_at: unknown;
    archived_at: unknown;
    newer: boolean | null;
  }>`select version, deleted_at, archived_at, ${newer} as newer
    from ${sql.id(t.streams)} where stream_id = ${streamId}`.execute(db);
  const stream = rows[0];
  if (stream !== undefined && stream.deleted_at !== null) {
    throw new EventStoreError('STREAM_DELETED', `Stream ${streamId} was deleted`, { details: { streamId } });
  }
  if (stream !== undefined && stream.archived_at !== null) {
    throw new EventStoreError('STREAM_ARCHIVED', `Stream ${streamId} is archived and read-only`, {
      details: { streamId },
    });
  }
  const actualVersion = stream === undefined ? 0 : Number(stream.version);
  const rule = rules(expected);
  const satisfied =
    stream === undefined ? rule.insert : rule.update && (rule.exact === null || rule.exact === actualVersion);
  if (satisfied) {
    // The expected version holds now, so the statement lost a race: a concurrent writer created the
    // stream first, or a newer transaction appended to it first. A fresh transaction can simply try
    // again; a transaction of the caller's cannot become newer and must be retried as a whole.
    if (stream?.newer === true) {
      throw new EventStoreError(
        'TRANSACTION_CONFLICT',
        `A newer transaction appended to stream ${streamId} first; retry the whole transaction`,
        { details: { streamId } },
      );
    }
    return 'retry';
  }
  throw new EventStoreError(
    'WRONG_EXPECTED_VERSION',
    `Stream ${streamId} is at version ${actualVersion}, expected ${String(expected)}`,
    { details: { streamId, expectedVersion: expected, actualVersion } },
  );
}

import { formatCursor } from './cursor';
import type { EventMetadata, EventStoreDialect, RecordedEvent } from './types';
import type { UpcasterChain } from './upcasting';

/**
 * An event row as both dialects return it (PostgreSQL: bigint as string, jsonb parsed; SQLite:
 * numbers, JSON text). `recorded_at` is epoch milliseconds on both (text on PostgreSQL, like the
 * other bigint columns).
 */
export interface EventRow {
  tx: string | number;
  position: string | number;
  stream_id?: string;
  version: string | number;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: unknown;
  recorded_at: number | string;
}

/**
 * The columns an event read selects, in the shape of `EventRow`; stream reads leave out the
 * stream id they already know (one string less to parse per row). PostgreSQL sends `recorded_at`
 * as whole epoch milliseconds: turning that into a Date is a fraction of the cost of parsing
 * timestamp text (node-postgres runs a regular expression and builds the Date field by field, the
 * largest single cost of a long read after JSON), independent of the session's time zone, and
 * floored to the millisecond as the text parser truncates.
 */
export function eventColumns(dialect: EventStoreDialect, withStreamId = true): string {
  return columnList(dialect, withStreamId)
    .map(([expression, alias]) => (expression === alias ? alias : `${expression} as ${alias}`))
    .join(', ');
}

/** The columns of `eventColumns`, all null: a header row in a UNION with event rows. */
export function nullColumns(dialect: EventStoreDialect, withStreamId = true): string {
  return columnList(dialect, withStreamId)
    .map(([, alias]) => `null as ${alias}`)
    .join(', ');
}

/**
 * On PostgreSQL the bigint columns travel as text: node-postgres hands text through untouched,
 * where its bigint parser tests every value with a regular expression only to return the same
 * string. The aliases keep the column names, so a query that selects these columns must qualify
 * the columns it orders by (`order by es_events.version`): an unqualified name in ORDER BY means
 * the output column, which is text.
 */
function columnList(dialect: EventStoreDialect, withStreamId: boolean): Array<[string, string]> {
  const postgres = dialect === 'postgres';
  const text = (column: string) => (postgres ? `${column}::text` : column);
  return [
    [text('transaction_id'), 'tx'],
    [text('position'), 'position'],
    ...(withStreamId ? [['stream_id', 'stream_id'] as [string, string]] : []),
    [text('version'), 'version'],
    ['event_id', 'event_id'],
    ['type', 'type'],
    ['schema_version', 'schema_version'],
    ['data', 'data'],
    ['metadata', 'metadata'],
    [postgres ? 'floor(extract(epoch from recorded_at) * 1000)::int8::text' : 'recorded_at', 'recorded_at'],
  ];
}

/** Turns rows (from `start` on) into events, parsing JSON on SQLite and applying upcasters. */
export function toEvents(
  rows: readonly EventRow[],
  dialect: EventStoreDialect,
  upcasters: UpcasterChain,
  streamId?: string,
  start = 0,
): RecordedEvent[] {
  const sqlite = dialect === 'sqlite';
  const lift = !upcasters.empty;
  const out = new Array<RecordedEvent>(Math.max(0, rows.length - start));
  for (let i = start; i < rows.length; i++) {
    const row = rows[i]!;
    const event: RecordedEvent = {
      id: row.event_id,
      streamId: row.stream_id ?? streamId ?? '',
      version: Number(row.version),
      position: Number(row.position),
      checkpoint: formatCursor(row.tx, row.position),
      type: row.type,
      data: sqlite ? JSON.parse(row.data as string) : row.data,
      metadata: (sqlite ? JSON.parse(row.metadata as string) : row.metadata) as EventMetadata,
      schemaVersion: row.schema_version,
      recordedAt: new Date(Number(row.recorded_at)),
    };
    out[i - start] = lift ? upcasters.apply(event) : event;
  }
  return out;
}

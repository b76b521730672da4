import { formatCursor } from './cursor';
import type { EventMetadata, EventStoreDialect, RecordedEvent } from './types';
import type { UpcasterChain } from './upcasting';

/** An event row as both dialects return it (PostgreSQL: bigint as string, jsonb parsed; SQLite: numbers, JSON text). */
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
  recorded_at: Date | number | string;
}

/**
 * The columns an event read selects, in the shape of `EventRow`; stream reads leave out the
 * stream id they already know (one string less to parse per row).
 */
export function eventColumns(dialect: EventStoreDialect, withStreamId = true): string {
  const tx = dialect === 'postgres' ? 'transaction_id::text' : 'transaction_id';
  return `${tx} as tx, position, ${withStreamId ? 'stream_id, ' : ''}version, event_id, type, schema_version, data, metadata, recorded_at`;
}

/** Turns rows into events, parsing JSON on SQLite and applying upcasters. */
export function toEvents(
  rows: readonly EventRow[],
  dialect: EventStoreDialect,
  upcasters: UpcasterChain,
  streamId?: string,
): RecordedEvent[] {
  const sqlite = dialect === 'sqlite';
  const lift = !upcasters.empty;
  const out = new Array<RecordedEvent>(rows.length);
  for (let i = 0; i < rows.length; i++) {
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
      recordedAt: row.recorded_at instanceof Date ? row.recorded_at : new Date(row.recorded_at),
    };
    out[i] = lift ? upcasters.apply(event) : event;
  }
  return out;
}

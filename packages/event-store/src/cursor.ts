import { EventStoreError } from './errors';

/**
 * A cursor in the global log: `<transactionId>:<position>`. Events are read in (transaction id,
 * position) order, so the cursor carries both. On SQLite the transaction id is always 0.
 */
export interface LogCursor {
  readonly transactionId: bigint;
  readonly position: bigint;
}

export const START_CURSOR = '0:0';

const CURSOR = /^(\d{1,20}):(\d{1,20})$/;

/** Parses a checkpoint string; `INVALID_ARGUMENT` for anything that is not one. */
export function parseCursor(value: string | undefined): LogCursor {
  if (value === undefined || value === '' || value === 'start') return { transactionId: 0n, position: 0n };
  const match = CURSOR.exec(value);
  if (match === null) {
    throw new EventStoreError('INVALID_ARGUMENT', `Not a log checkpoint: "${value.slice(0, 60)}"`, {
      details: { argument: 'after' },
    });
  }
  return { transactionId: BigInt(match[1]!), position: BigInt(match[2]!) };
}

export function formatCursor(
  transactionId: bigint | string | number,
  position: bigint | string | number,
): string {
  return `${transactionId}:${position}`;
}

/** -1, 0 or 1 as `a` comes before, at or after `b` in reading order. */
export function compareCursors(a: string, b: string): number {
  const x = parseCursor(a);
  const y = parseCursor(b);
  if (x.transactionId !== y.transactionId) return x.transactionId < y.transactionId ? -1 : 1;
  if (x.position !== y.position) return x.position < y.position ? -1 : 1;
  return 0;
}

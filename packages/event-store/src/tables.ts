import { EventStoreError } from './errors';

/** The names of the tables one store uses, all sharing its prefix. */
export interface TableNames {
  readonly prefix: string;
  readonly streams: string;
  readonly events: string;
  readonly snapshots: string;
  readonly checkpoints: string;
  readonly migration: string;
  readonly migrationLock: string;
}

// Table names are spliced into SQL as identifiers, so the prefix is restricted to a safe alphabet.
const SAFE_PREFIX = /^[a-z_][a-z0-9_]{0,30}$/;

/**
 * The table names for a prefix; throws `INVALID_OPTIONS` for a prefix that is not a plain identifier.
 *
 * @example
 * ```ts
 * tableNames('es_').events; // 'es_events'
 * ```
 */
export function tableNames(prefix: string): TableNames {
  if (!SAFE_PREFIX.test(prefix)) {
    throw new EventStoreError(
      'INVALID_OPTIONS',
      `tablePrefix must be lower-case letters, digits and underscores (at most 31), got "${prefix}"`,
    );
  }
  return {
    prefix,
    streams: `${prefix}streams`,
    events: `${prefix}events`,
    snapshots: `${prefix}snapshots`,
    checkpoints: `${prefix}checkpoints`,
    migration: `${prefix}migration`,
    migrationLock: `${prefix}migration_lock`,
  };
}

/**
 * The advisory-lock class of one store's streams: a 31-bit FNV-1a hash of its events table name,
 * so two stores in one database (or other users of two-key advisory locks) rarely share locks.
 *
 * @example
 * ```ts
 * lockClass(tableNames('es_')); // the same number on every start
 * ```
 */
export function lockClass(t: TableNames): number {
  let hash = 0x811c9dc5;
  for (const char of t.events) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 1) | 0;
}

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

import { PlatError } from '@plat/core';

/** Error codes raised by @plat/db-perf. */
export const DbPerfErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /**
   * A bulkhead shed the work: its queue was full, or the work waited longer than `queueTimeoutMs`.
   * `details.retryAfterSeconds` says when to try again (adapters answer 503 with `Retry-After`).
   */
  OVERLOADED: 'OVERLOADED',
  /** N+1 detection in `throw` mode found a repeated query inside one unit of work. */
  N_PLUS_ONE: 'N_PLUS_ONE',
  /** Running `EXPLAIN` (or validating an index with hypopg) failed; the cause is kept. */
  EXPLAIN_FAILED: 'EXPLAIN_FAILED',
  /** A function that needs a database was called before `attach(db)`. */
  NOT_ATTACHED: 'NOT_ATTACHED',
} as const;
export type DbPerfErrorCode = (typeof DbPerfErrorCode)[keyof typeof DbPerfErrorCode];

/** The one error class of @plat/db-perf; match on `code`. */
export class DbPerfError extends PlatError<DbPerfErrorCode> {
  override readonly name = 'DbPerfError';
}

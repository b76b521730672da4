import { PlatError } from '@plat/core';

/** Error codes raised by @plat/db-perf. */
export const DbPerfErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
} as const;
export type DbPerfErrorCode = (typeof DbPerfErrorCode)[keyof typeof DbPerfErrorCode];

/** The one error class of @plat/db-perf; match on `code`. */
export class DbPerfError extends PlatError<DbPerfErrorCode> {
  override readonly name = 'DbPerfError';
}

import { PlatError } from '@plat/core';

/** Error codes raised by @plat/logging. */
export const LoggingErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
} as const;
export type LoggingErrorCode = (typeof LoggingErrorCode)[keyof typeof LoggingErrorCode];

/** The one error class of @plat/logging; match on `code`. */
export class LoggingError extends PlatError<LoggingErrorCode> {
  override readonly name = 'LoggingError';
}

import { PlatError } from '@plat/core';

/** Error codes raised or reported by @plat/logging. */
export const LoggingErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** A destination could not be written (disk full, closed pipe); the failed bytes are dropped. */
  WRITE_FAILED: 'WRITE_FAILED',
  /** The destination is slower than the service and the buffer is full; new lines are dropped and counted. */
  BUFFER_FULL: 'BUFFER_FULL',
  /** A line could not be serialised (a throwing getter, say); it is written without its fields. */
  SERIALIZE_FAILED: 'SERIALIZE_FAILED',
  /** A winston transport raised an error; winston stops writing to it, other transports go on. */
  TRANSPORT_FAILED: 'TRANSPORT_FAILED',
  /** A line was logged after `close()`; it is dropped. */
  LOGGER_CLOSED: 'LOGGER_CLOSED',
} as const;
export type LoggingErrorCode = (typeof LoggingErrorCode)[keyof typeof LoggingErrorCode];

/** The one error class of @plat/logging; match on `code`. */
export class LoggingError extends PlatError<LoggingErrorCode> {
  override readonly name = 'LoggingError';
}

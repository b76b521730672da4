import { PlatError } from '@plat/core';

/** Error codes raised by @plat/tracing. */
export const TracingErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** `setupTracing` was called while an earlier setup is still active; shut that one down first. */
  ALREADY_SET_UP: 'ALREADY_SET_UP',
} as const;
export type TracingErrorCode = (typeof TracingErrorCode)[keyof typeof TracingErrorCode];

/** The one error class of @plat/tracing; match on `code`. */
export class TracingError extends PlatError<TracingErrorCode> {
  override readonly name = 'TracingError';
}

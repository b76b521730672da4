import { PlatError } from '@plat/core';

/** Error codes raised by @plat/health. */
export const HealthErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
} as const;
export type HealthErrorCode = (typeof HealthErrorCode)[keyof typeof HealthErrorCode];

/** The one error class of @plat/health; match on `code`. */
export class HealthError extends PlatError<HealthErrorCode> {
  override readonly name = 'HealthError';
}

import { PlatError } from '@plat/core';

/** Error codes raised by @plat/health. */
export const HealthErrorCode = {
  /** Options passed to a factory or a registration are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** A check, startup task, heartbeat, hold or close hook with this name is already registered. */
  DUPLICATE_NAME: 'DUPLICATE_NAME',
  /** A check did not answer within its timeout: the reason its `signal` is aborted with (answers report the timeout). */
  CHECK_TIMEOUT: 'CHECK_TIMEOUT',
  /** A startup task failed or timed out; `health.started()` rejects with it. */
  STARTUP_FAILED: 'STARTUP_FAILED',
  /** The service is shutting down: new startup tasks, holds and server attachments are refused. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
} as const;
export type HealthErrorCode = (typeof HealthErrorCode)[keyof typeof HealthErrorCode];

/** The one error class of @plat/health; match on `code`. */
export class HealthError extends PlatError<HealthErrorCode> {
  override readonly name = 'HealthError';
}

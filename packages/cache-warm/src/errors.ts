import { PlatError } from '@plat/core';

/** Error codes raised by @plat/cache-warm. */
export const CacheWarmErrorCode = {
  /** Options passed to a factory or to `register` are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** A warmer of that name is already registered. */
  DUPLICATE_WARMER: 'DUPLICATE_WARMER',
  /** No warmer of that name is registered. */
  UNKNOWN_WARMER: 'UNKNOWN_WARMER',
  /** The warmer was stopped; nothing new is started. */
  STOPPED: 'STOPPED',
  /** A loader threw or rejected (recorded in the run, never thrown to the caller). */
  LOAD_FAILED: 'LOAD_FAILED',
  /** A load was still running when the run's deadline passed (recorded in the run). */
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  /** The `keys` function of a warmer threw (recorded in the run). */
  KEYS_FAILED: 'KEYS_FAILED',
  /** A Redis call of the warmer (lock, shared popularity) failed; the warmer goes on alone. */
  REDIS_FAILED: 'REDIS_FAILED',
} as const;
export type CacheWarmErrorCode = (typeof CacheWarmErrorCode)[keyof typeof CacheWarmErrorCode];

/** The one error class of @plat/cache-warm; match on `code`. */
export class CacheWarmError extends PlatError<CacheWarmErrorCode> {
  override readonly name = 'CacheWarmError';
}

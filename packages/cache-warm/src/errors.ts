import { PlatError } from '@plat/core';

/** Error codes raised by @plat/cache-warm. */
export const CacheWarmErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
} as const;
export type CacheWarmErrorCode = (typeof CacheWarmErrorCode)[keyof typeof CacheWarmErrorCode];

/** The one error class of @plat/cache-warm; match on `code`. */
export class CacheWarmError extends PlatError<CacheWarmErrorCode> {
  override readonly name = 'CacheWarmError';
}

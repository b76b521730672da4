import { PlatError } from '@plat/core';

/** Error codes raised by @plat/cache-deps. */
export const CacheErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
} as const;
export type CacheErrorCode = (typeof CacheErrorCode)[keyof typeof CacheErrorCode];

/** The one error class of @plat/cache-deps; match on `code`. */
export class CacheError extends PlatError<CacheErrorCode> {
  override readonly name = 'CacheError';
}

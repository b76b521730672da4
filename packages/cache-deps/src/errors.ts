import { PlatError } from '@plat/core';

/** Error codes raised by @plat/cache-deps. */
export const CacheErrorCode = {
  /** Options passed to a factory or a method are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** A cache key is empty, too long, starts with `}` or is not a string. */
  INVALID_KEY: 'INVALID_KEY',
  /** A value cannot be stored: the codec refused it (`undefined`, a function, a cycle) or failed. */
  INVALID_VALUE: 'INVALID_VALUE',
  /** The store (Redis) is not connected or refused the command; the operation did not happen. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** The store did not answer within `timeoutMs`; the operation may or may not have happened. */
  STORE_TIMEOUT: 'STORE_TIMEOUT',
  /**
   * The invalidation happened in the store, but some instance with an L1 neither confirmed that it
   * dropped the keys nor let its lease lapse within `l1.ackTimeoutMs`.
   */
  INVALIDATION_UNCONFIRMED: 'INVALIDATION_UNCONFIRMED',
  /** The cache (or its store) was closed. */
  CLOSED: 'CLOSED',
} as const;
export type CacheErrorCode = (typeof CacheErrorCode)[keyof typeof CacheErrorCode];

/** The one error class of @plat/cache-deps; match on `code`. */
export class CacheError extends PlatError<CacheErrorCode> {
  override readonly name = 'CacheError';
}

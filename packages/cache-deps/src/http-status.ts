import { statusTable } from '@plat/core';
import type { CacheErrorCode } from './errors';

/** HTTP statuses for @plat/cache-deps error codes, shared by the three adapters. */
export const cacheErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
  INVALID_KEY: 500,
  INVALID_VALUE: 500,
  STORE_UNAVAILABLE: 503,
  STORE_TIMEOUT: 503,
  INVALIDATION_UNCONFIRMED: 503,
  CLOSED: 503,
} satisfies Record<CacheErrorCode, number>);

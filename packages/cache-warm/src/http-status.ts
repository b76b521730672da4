import { statusTable } from '@plat/core';
import type { CacheWarmErrorCode } from './errors';

/** HTTP statuses for @plat/cache-warm error codes, shared by the three adapters. */
export const cacheWarmErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
  DUPLICATE_WARMER: 500,
  UNKNOWN_WARMER: 404,
  STOPPED: 503,
  LOAD_FAILED: 502,
  DEADLINE_EXCEEDED: 504,
  KEYS_FAILED: 502,
  REDIS_FAILED: 503,
} satisfies Record<CacheWarmErrorCode, number>);

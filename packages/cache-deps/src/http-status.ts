import { statusTable } from '@plat/core';
import type { CacheErrorCode } from './errors';

/** HTTP statuses for @plat/cache-deps error codes, shared by the three adapters. */
export const cacheErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
} satisfies Record<CacheErrorCode, number>);

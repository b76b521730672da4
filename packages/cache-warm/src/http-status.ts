import { statusTable } from '@plat/core';
import type { CacheWarmErrorCode } from './errors';

/** HTTP statuses for @plat/cache-warm error codes, shared by the three adapters. */
export const cacheWarmErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
} satisfies Record<CacheWarmErrorCode, number>);

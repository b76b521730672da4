import { statusTable } from '@plat/core';
import type { DbPerfErrorCode } from './errors';

/** HTTP statuses for @plat/db-perf error codes, shared by the three adapters. */
export const dbPerfErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
  OVERLOADED: 503,
  N_PLUS_ONE: 500,
  EXPLAIN_FAILED: 500,
  NOT_ATTACHED: 500,
} satisfies Record<DbPerfErrorCode, number>);

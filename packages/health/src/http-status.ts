import { statusTable } from '@plat/core';
import type { HealthErrorCode } from './errors';

/** HTTP statuses for @plat/health error codes, shared by the three adapters. */
export const healthErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
} satisfies Record<HealthErrorCode, number>);

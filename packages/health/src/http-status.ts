import { statusTable } from '@plat/core';
import type { HealthErrorCode } from './errors';

/** HTTP statuses for @plat/health error codes, shared by the three adapters. */
export const healthErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
  DUPLICATE_NAME: 500,
  CHECK_TIMEOUT: 503,
  STARTUP_FAILED: 503,
  SHUTTING_DOWN: 503,
} satisfies Record<HealthErrorCode, number>);

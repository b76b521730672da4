import { statusTable } from '@plat/core';
import type { InputGuardErrorCode } from './errors';

/** HTTP statuses for @plat/input-guard error codes, shared by the three adapters. */
export const inputGuardErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
} satisfies Record<InputGuardErrorCode, number>);

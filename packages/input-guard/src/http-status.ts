import { statusTable } from '@plat/core';
import type { InputGuardErrorCode } from './errors';

/** HTTP statuses for @plat/input-guard error codes, shared by the three adapters. */
export const inputGuardErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
  VALIDATION_FAILED: 400,
  UNSAFE_CODE: 400,
  SANDBOX_TIMEOUT: 422,
  SANDBOX_MEMORY_LIMIT: 422,
  SANDBOX_ERROR: 422,
  FILE_TOO_LARGE: 413,
  UNSUPPORTED_FILE_TYPE: 415,
  UPLOAD_REJECTED: 400,
} satisfies Record<InputGuardErrorCode, number>);

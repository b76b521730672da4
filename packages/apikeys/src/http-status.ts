import { statusTable } from '@plat/core';
import type { ApiKeyErrorCode } from './errors';

/** HTTP statuses for @plat/apikeys error codes, shared by the three adapters. */
export const apiKeyErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
} satisfies Record<ApiKeyErrorCode, number>);

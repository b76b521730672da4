import { statusTable } from '@plat/core';
import type { ApiKeyErrorCode } from './errors';

/** HTTP status per @plat/apikeys error code, shared by the three adapters. */
export const apiKeyStatusCodes = {
  MALFORMED: 401,
  NOT_FOUND: 401,
  REVOKED: 401,
  EXPIRED: 401,
  DISABLED: 401,
  MISSING_KEY: 401,
  INSUFFICIENT_SCOPE: 403,
  // A limited key is a valid key: 429 with Retry-After, never 401.
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  INVALID_INPUT: 400,
  KEY_NOT_FOUND: 404,
  INVALID_STATE: 409,
  STORE_UNAVAILABLE: 503,
  INVALID_OPTIONS: 500,
  CLOSED: 503,
} as const satisfies Record<ApiKeyErrorCode, number>;

/** Resolves @plat/apikeys error codes to HTTP statuses, for the bridges of @plat/core. */
export const apiKeyErrorStatus = statusTable(apiKeyStatusCodes);

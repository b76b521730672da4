import { statusTable } from '@plat/core';
import type { EventStoreErrorCode } from './errors';

/** HTTP statuses for @plat/event-store error codes, shared by the three adapters. */
export const eventStoreErrorStatus = statusTable({
  WRONG_EXPECTED_VERSION: 409,
  STREAM_NOT_FOUND: 404,
  STREAM_DELETED: 410,
  STREAM_ARCHIVED: 409,
  TRANSACTION_CONFLICT: 409,
  DUPLICATE_EVENT_ID: 409,
  INVALID_EVENT: 400,
  INVALID_ARGUMENT: 400,
  UNKNOWN_AGGREGATE: 404,
  INVALID_OPTIONS: 500,
  MIGRATION_FAILED: 500,
  STORAGE_FAILED: 503,
} satisfies Record<EventStoreErrorCode, number>);

import { PlatError } from '@plat/core';

/** Error codes raised by @plat/event-store. */
export const EventStoreErrorCode = {
  /** The stream is not at the expected version; `details.actualVersion` says where it is. */
  WRONG_EXPECTED_VERSION: 'WRONG_EXPECTED_VERSION',
  /** The stream has no events. */
  STREAM_NOT_FOUND: 'STREAM_NOT_FOUND',
  /** The stream was soft-deleted: it refuses appends, and reads need `includeDeleted`. */
  STREAM_DELETED: 'STREAM_DELETED',
  /** The stream was archived: it can be read but refuses appends. */
  STREAM_ARCHIVED: 'STREAM_ARCHIVED',
  /**
   * Inside `store.transaction()`: a newer transaction appended to the same stream first. Retry the
   * whole transaction (PostgreSQL only; it keeps each stream's versions in global-log order).
   */
  TRANSACTION_CONFLICT: 'TRANSACTION_CONFLICT',
  /** An event id is already stored for a different event (another stream, or a partial retry). */
  DUPLICATE_EVENT_ID: 'DUPLICATE_EVENT_ID',
  /** An event to append is malformed (empty type, non-JSON data, id not a UUID). */
  INVALID_EVENT: 'INVALID_EVENT',
  /** A read argument is out of range or malformed (a version, a limit, a checkpoint, a date). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** No fold is registered for the requested aggregate. */
  UNKNOWN_AGGREGATE: 'UNKNOWN_AGGREGATE',
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** The schema migration failed; `cause` holds the database error. */
  MIGRATION_FAILED: 'MIGRATION_FAILED',
  /** The database failed or is unreachable; `cause` holds the driver error. */
  STORAGE_FAILED: 'STORAGE_FAILED',
} as const;
export type EventStoreErrorCode = (typeof EventStoreErrorCode)[keyof typeof EventStoreErrorCode];

/** The one error class of @plat/event-store; match on `code`. */
export class EventStoreError extends PlatError<EventStoreErrorCode> {
  override readonly name = 'EventStoreError';
}

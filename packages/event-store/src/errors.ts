import { PlatError } from '@plat/core';

/** Error codes raised by @plat/event-store. */
export const EventStoreErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
} as const;
export type EventStoreErrorCode = (typeof EventStoreErrorCode)[keyof typeof EventStoreErrorCode];

/** The one error class of @plat/event-store; match on `code`. */
export class EventStoreError extends PlatError<EventStoreErrorCode> {
  override readonly name = 'EventStoreError';
}

import { statusTable } from '@plat/core';
import type { EventStoreErrorCode } from './errors';

/** HTTP statuses for @plat/event-store error codes, shared by the three adapters. */
export const eventStoreErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
} satisfies Record<EventStoreErrorCode, number>);

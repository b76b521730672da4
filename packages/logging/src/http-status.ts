import { statusTable } from '@plat/core';
import type { LoggingErrorCode } from './errors';

/** HTTP statuses for @plat/logging error codes, shared by the three adapters. */
export const loggingErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
  WRITE_FAILED: 500,
  BUFFER_FULL: 500,
  SERIALIZE_FAILED: 500,
  TRANSPORT_FAILED: 500,
  LOGGER_CLOSED: 500,
} satisfies Record<LoggingErrorCode, number>);

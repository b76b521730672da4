import { statusTable } from '@plat/core';
import type { TracingErrorCode } from './errors';

/** HTTP statuses for @plat/tracing error codes, shared by the three adapters. */
export const tracingErrorStatus = statusTable({
  INVALID_OPTIONS: 500,
  ALREADY_SET_UP: 500,
} satisfies Record<TracingErrorCode, number>);

/**
 * The service's own error codes, and one status resolver for every error a request can meet: the
 * frameworks take a single error handler, so the packages' code tables are joined here by error
 * class name (codes such as INVALID_OPTIONS exist in several packages with different meanings).
 */
import { apiKeyErrorStatus } from '@plat/apikeys';
import { PlatError, type StatusResolver, statusTable } from '@plat/core';
import { dbPerfErrorStatus } from '@plat/db-perf';
import { eventStoreErrorStatus } from '@plat/event-store';
import { inputGuardErrorStatus } from '@plat/input-guard';

export const WorkflowErrorCode = {
  WORKFLOW_NOT_FOUND: 'WORKFLOW_NOT_FOUND',
  NODE_NOT_FOUND: 'NODE_NOT_FOUND',
  NODE_EXISTS: 'NODE_EXISTS',
  ALREADY_PUBLISHED: 'ALREADY_PUBLISHED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
} as const;
export type WorkflowErrorCode = (typeof WorkflowErrorCode)[keyof typeof WorkflowErrorCode];

export class WorkflowError extends PlatError<WorkflowErrorCode> {
  override readonly name = 'WorkflowError';
}

const workflowErrorStatus = statusTable({
  WORKFLOW_NOT_FOUND: 404,
  NODE_NOT_FOUND: 404,
  NODE_EXISTS: 409,
  ALREADY_PUBLISHED: 409,
  UNAUTHENTICATED: 401,
} satisfies Record<WorkflowErrorCode, number>);

// Cache and health failures on a request path mean a dependency is down: 503 with the reason.
const unavailable = statusTable({
  STORE_UNAVAILABLE: 503,
  STORE_TIMEOUT: 503,
  INVALIDATION_UNCONFIRMED: 503,
  CLOSED: 503,
  SHUTTING_DOWN: 503,
});

const byErrorClass: Readonly<Record<string, StatusResolver>> = {
  WorkflowError: workflowErrorStatus,
  ApiKeyError: apiKeyErrorStatus,
  InputGuardError: inputGuardErrorStatus,
  EventStoreError: eventStoreErrorStatus,
  DbPerfError: dbPerfErrorStatus,
  CacheError: unavailable,
  CacheWarmError: statusTable({ UNKNOWN_WARMER: 404, STOPPED: 503 }),
  HealthError: unavailable,
};

/**
 * HTTP status of any @plat error thrown while serving a request; pass it to the framework bridge's
 * error handler (`fastifyErrorHandler(problemStatus)`).
 */
export const problemStatus: StatusResolver = (error) => byErrorClass[error.name]?.(error);

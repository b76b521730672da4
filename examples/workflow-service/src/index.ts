export { ADMIN_OWNER, ensureAdminKey } from './admin-key';
export { readConfig, type ServiceConfig } from './config';
export { type DatabaseHandle, openDatabase } from './database';
export { problemStatus, WorkflowError, WorkflowErrorCode } from './errors';
export { connectRedis, type RedisConnection } from './redis';
export {
  NodeParams,
  type RouteInput,
  RunBody,
  StateQuery,
  WorkflowParams,
  type WorkflowRoute,
  workflowRoutes,
} from './routes';
export { type Database, migrateReadModel } from './schema';
export {
  ADMIN_SCOPE,
  createWorkflowService,
  type ServiceHooks,
  type ServiceOptions,
  type WorkflowService,
} from './service';
export { startTracing } from './tracing';
export {
  evolve,
  streamOf,
  type WorkflowEvents,
  type WorkflowNodeState,
  type WorkflowState,
  workflowAggregate,
} from './workflow';
export { type CachedRead, cacheKeys, type HistoryEntry, type RunResult, Workflows } from './workflows';

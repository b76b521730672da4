export { type DiskSpaceCheckOptions, diskSpaceCheck } from './checks/disk';
export { type ClosableCheck, eventLoopCheck } from './checks/event-loop';
export { type HttpCheckOptions, httpCheck } from './checks/http';
export { containerMemoryLimit, type MemoryCheckOptions, memoryCheck } from './checks/memory';
export {
  type KyselyLike,
  type PgQueryable,
  type PostgresCheckOptions,
  postgresCheck,
} from './checks/postgres';
export { type RedisCheckOptions, type RedisPingable, redisCheck } from './checks/redis';
export { HealthError, HealthErrorCode } from './errors';
export { createHealth, type Health } from './health';
export { HEALTH_CONTENT_TYPE } from './report';
export { DEFAULT_PATHS, detailsForToken, healthRoutes, type TokenDetailsOptions } from './routes';
export type { RequestEmitter } from './server-probes';
export type {
  AttachOptions,
  CacheOptions,
  CheckContext,
  CheckFunction,
  CheckKind,
  CheckMeasurement,
  CheckOptions,
  CheckOutcome,
  CheckProbe,
  CheckResult,
  DetailLevel,
  EventLoopCheckOptions,
  HealthCheck,
  HealthLogger,
  HealthOptions,
  HealthReport,
  HealthRoutesOptions,
  HealthStatus,
  Heartbeat,
  HeartbeatOptions,
  HttpServerLike,
  IncomingLike,
  LifecycleState,
  OutgoingLike,
  ProbeName,
  ProbeRequest,
  ShutdownHold,
  ShutdownHookOptions,
  ShutdownOptions,
  ShutdownReport,
  StartupTask,
  StartupTaskOptions,
  StartupTaskRegistry,
  StartupTaskState,
  Threshold,
} from './types';

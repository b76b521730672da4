export {
  type DescribeWithDatabasesOptions,
  describeWithDatabases,
  type SqlDialectName,
  type TestDatabase,
} from './databases';
export { describeErrorHandlers, type ErrorHandlers } from './error-handler-suite';
export { type AppMounts, type FrameworkHarness, frameworks, type RunningApp } from './frameworks';
export { describeWithPostgres, type PgTestDatabase, withSearchPath } from './postgres';
export {
  describeWithPostgresServer,
  type PostgresServerHandle,
  postgresBinDir,
  type StartPostgresServerOptions,
  startPostgresServer,
} from './postgres-server';
export { seededRandom, zipfSampler } from './random';
export { deleteByPrefix, describeWithRedis, type RedisTestKeyspace } from './redis';
export { type RedisClusterHandle, type StartRedisClusterOptions, startRedisCluster } from './redis-cluster';
export {
  freePort,
  type RedisServerHandle,
  type StartRedisServerOptions,
  startRedisServer,
} from './redis-server';
export {
  describeWithCommand,
  describeWithServices,
  hasCommand,
  isCI,
  isolationName,
  POSTGRES,
  REDIS,
  type ServiceSpec,
  serviceUrl,
} from './services';

/**
 * Where the service's settings come from. Every backend has an embedded default (SQLite, the
 * in-process cache, no trace export), so the service runs on a bare machine; the environment
 * switches each one to its production engine.
 */
import { randomBytes } from 'node:crypto';
import type { LogFormat, LogLevel } from '@plat/logging';

export interface ServiceConfig {
  /** `service.name` in traces and `service` on every log line. */
  serviceName: string;
  /** PostgreSQL URL (`PLAT_PG_URL`); SQLite when unset. */
  postgresUrl: string | undefined;
  /** SQLite file when PostgreSQL is not configured (`PLAT_SQLITE_FILE`); `:memory:` by default. */
  sqliteFile: string;
  /** Redis URL (`PLAT_REDIS_URL`): the cache graph and API key revocations go there. */
  redisUrl: string | undefined;
  /** Redis Cluster node URLs (`PLAT_REDIS_CLUSTER_NODES`, comma-separated); used instead of `redisUrl`. */
  redisClusterNodes: string[];
  /** Prefix of every Redis key and channel this instance uses (`PLAT_REDIS_PREFIX`). */
  redisPrefix: string;
  /** An HTTP dependency the readiness probe checks (`PLAT_DEPENDENCY_URL`), for example a vector database. */
  dependencyUrl: string | undefined;
  /** Secret mixed into every API key hash (`PLAT_API_KEY_PEPPER`, at least 32 bytes). */
  apiKeyPepper: string;
  /** True when no pepper was configured and one was generated for this process only. */
  pepperGenerated: boolean;
  /** `development` turns on N+1 warnings and readable logs; `production` (NODE_ENV) keeps JSON. */
  environment: string;
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** Queries at or over this many milliseconds are logged as slow (`PLAT_SLOW_QUERY_MS`). */
  slowQueryMs: number;
  /** Concurrent write requests before the bulkhead queues, then sheds them (`PLAT_WRITE_CONCURRENCY`). */
  writeConcurrency: number;
  /** Cron schedule of the popular-workflows warmer (`PLAT_WARM_SCHEDULE`). */
  warmSchedule: string;
  /** Milliseconds a graceful shutdown keeps serving after readiness turns red (`PLAT_SHUTDOWN_DELAY_MS`). */
  shutdownDelayMs: number;
}

/**
 * Reads the configuration from environment variables; anything unset gets its embedded default.
 *
 * @example
 * ```ts
 * const config = readConfig({ ...process.env, PLAT_SQLITE_FILE: './workflows.db' });
 * ```
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const environment = env.NODE_ENV ?? 'development';
  const pepper = env.PLAT_API_KEY_PEPPER;
  return {
    serviceName: env.OTEL_SERVICE_NAME ?? 'workflows',
    postgresUrl: nonEmpty(env.PLAT_PG_URL),
    sqliteFile: env.PLAT_SQLITE_FILE ?? ':memory:',
    redisUrl: nonEmpty(env.PLAT_REDIS_URL),
    redisClusterNodes: (env.PLAT_REDIS_CLUSTER_NODES ?? '')
      .split(',')
      .map((url) => url.trim())
      .filter((url) => url !== ''),
    redisPrefix: env.PLAT_REDIS_PREFIX ?? 'workflows:',
    dependencyUrl: nonEmpty(env.PLAT_DEPENDENCY_URL),
    // A generated pepper makes every key die with the process: fine on a laptop, never in production.
    apiKeyPepper: pepper ?? randomBytes(32).toString('base64url'),
    pepperGenerated: pepper === undefined,
    environment,
    logFormat:
      (env.LOG_FORMAT as LogFormat | undefined) ?? (environment === 'production' ? 'json' : 'pretty'),
    logLevel: (env.LOG_LEVEL as LogLevel | undefined) ?? 'info',
    slowQueryMs: Number(env.PLAT_SLOW_QUERY_MS ?? 200),
    writeConcurrency: Number(env.PLAT_WRITE_CONCURRENCY ?? 8),
    warmSchedule: env.PLAT_WARM_SCHEDULE ?? '*/5 * * * *',
    shutdownDelayMs: Number(env.PLAT_SHUTDOWN_DELAY_MS ?? (environment === 'production' ? 5000 : 0)),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

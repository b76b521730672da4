/**
 * The composition root: every @plat package configured once for the workflow service. The apps
 * only add their framework's adapters on top of this.
 */
import {
  type ApiKeyManager,
  apiKeyMiddleware,
  createApiKeyManager,
  createKyselyKeyStore,
  createPostgresInvalidationSignal,
} from '@plat/apikeys';
import { type Cache, createCache, createRedisStore, type InvalidationResult } from '@plat/cache-deps';
import { createWarmer, popular, type Warmer } from '@plat/cache-warm';
import type { HttpExchange, PlatMiddleware } from '@plat/core';
import {
  type Bulkhead,
  createBulkhead,
  createDbPerf,
  type DbPerf,
  type NPlusOneReport,
  type SlowQueryEvent,
} from '@plat/db-perf';
import { createEventStore, type EventStore, type EventStoreRouterOptions } from '@plat/event-store';
import { createHealth, type Health, httpCheck, memoryCheck, postgresCheck, redisCheck } from '@plat/health';
import { closeSandbox } from '@plat/input-guard';
import { createLogger, type Logger, type LoggerOptions } from '@plat/logging';
import type { Kysely } from 'kysely';
import type { ServiceConfig } from './config';
import { openDatabase } from './database';
import { readModelProjection } from './projection';
import { connectRedis, type RedisConnection } from './redis';
import { type WorkflowRoute, workflowRoutes } from './routes';
import { type Database, migrateReadModel } from './schema';
import { workflowAggregate } from './workflow';
import { Workflows } from './workflows';

/** How long cached workflows and lists live; invalidation removes them sooner when they change. */
const CACHE_TTL_MS = 10 * 60_000;

/** Scopes an admin key holds: key management, the database and event admin pages. */
export const ADMIN_SCOPE = 'api-keys:admin';

/** Observers for what the packages do behind a request (the demo narrates with them). */
export interface ServiceHooks {
  onInvalidate?(root: string, result: InvalidationResult): void;
  onSlowQuery?(event: SlowQueryEvent): void;
  onNPlusOne?(report: NPlusOneReport): void;
}

export interface ServiceOptions {
  /** Extra logger options, for example `transports` (tests keep lines in memory). */
  logger?: Partial<LoggerOptions>;
  hooks?: ServiceHooks;
  /** End the process when a graceful shutdown finishes (tests and the demo's exit mode say false). @default true */
  exitOnShutdown?: boolean;
}

export interface WorkflowService {
  readonly config: ServiceConfig;
  readonly logger: Logger;
  readonly db: Kysely<Database>;
  readonly perf: DbPerf;
  /** Write routes share this bulkhead: beyond it, requests are shed with 503 instead of queueing on the pool. */
  readonly bulkhead: Bulkhead;
  readonly keys: ApiKeyManager;
  readonly events: EventStore<Database>;
  readonly cache: Cache;
  /** Warms popular workflows on a schedule and refreshes hot ones before they expire. */
  readonly warmer: Warmer;
  /** The Redis server or cluster, when one is configured. */
  readonly redis: RedisConnection | undefined;
  readonly health: Health;
  readonly workflows: Workflows;
  readonly routes: WorkflowRoute[];
  /** Guards the admin pages (db stats, event log) with the admin scope. */
  readonly adminGuard: PlatMiddleware;
  /** The raw event log under `/admin/events`, behind the admin guard, with workflows replayable. */
  readonly eventLog: EventStoreRouterOptions;
  /** Probes stay out of traces, request logs, units of work and the bulkhead. */
  isProbe(exchange: HttpExchange): boolean;
  /** Reads skip the write bulkhead. */
  isRead(exchange: HttpExchange): boolean;
  /** Resolves once the migrations are done (the startup probe turns green at the same time). */
  started(): Promise<void>;
  /** Closes everything the service opened, in order (also registered as graceful-shutdown hooks). */
  close(): Promise<void>;
}

/**
 * Builds the service from its configuration: logger, database with db-perf, event store, API keys,
 * cache, health checks and shutdown hooks. Tracing is process-wide: call `startTracing` first.
 *
 * @example
 * ```ts
 * const service = await createWorkflowService(readConfig());
 * await service.started();
 * ```
 */
export async function createWorkflowService(
  config: ServiceConfig,
  options: ServiceOptions = {},
): Promise<WorkflowService> {
  const hooks = options.hooks ?? {};
  const logger = createLogger({
    format: config.logFormat,
    level: config.logLevel,
    fields: { service: config.serviceName },
    ...options.logger,
  });
  if (config.pepperGenerated) {
    logger.warn('PLAT_API_KEY_PEPPER is not set: API keys will stop working when this process exits');
  }

  const perf = createDbPerf({
    slowQueryMs: config.slowQueryMs,
    nPlusOne: { mode: config.environment === 'development' ? 'warn' : 'off', threshold: 3 },
    logger,
    ...(hooks.onSlowQuery ? { onSlowQuery: hooks.onSlowQuery } : {}),
    ...(hooks.onNPlusOne ? { onNPlusOne: hooks.onNPlusOne } : {}),
  });
  const { db, pool } = openDatabase(config, perf);
  const bulkhead = createBulkhead({ concurrency: config.writeConcurrency, name: 'writes' });

  const redis = await connectRedis(config, logger);

  const events = createEventStore<Database>({
    db,
    inlineProjections: [readModelProjection],
    ...(pool === undefined ? {} : { listen: pool }),
  });
  const keys = createApiKeyManager({
    store: createKyselyKeyStore({ db }),
    peppers: [{ id: 'p1', secret: config.apiKeyPepper }],
    // Revocations reach every instance through Redis, or else through PostgreSQL LISTEN / NOTIFY.
    ...(redis !== undefined
      ? { redis: redis.client, redisKeyPrefix: `${config.redisPrefix}apikeys:` }
      : config.postgresUrl !== undefined
        ? { invalidation: createPostgresInvalidationSignal({ connectionString: config.postgresUrl }) }
        : {}),
    onError: (error) => logger.warn('api key background failure', { error: String(error) }),
  });
  const cache = createCache({
    namespace: `${config.redisPrefix}cache`,
    defaultTtl: CACHE_TTL_MS,
    ...(redis === undefined ? {} : { store: createRedisStore({ client: redis.client }), l1: true }),
    onError: (error) => logger.warn('cache failure absorbed', { error: String(error) }),
  });
  const workflows = new Workflows({
    db,
    events,
    cache,
    ...(hooks.onInvalidate ? { onInvalidate: hooks.onInvalidate } : {}),
  });

  const health = createHealth({
    checks: [
      postgresCheck(db, { name: 'database' }),
      ...(redis === undefined ? [] : [redisCheck(redis.pingable)]),
      ...(config.dependencyUrl === undefined
        ? []
        : [httpCheck({ name: 'dependency', url: config.dependencyUrl })]),
      memoryCheck(),
    ],
    shutdown: { delayMs: config.shutdownDelayMs, exit: options.exitOnShutdown ?? true },
    logger,
  });
  const migrated = health.startupTask('migrations', async () => {
    await migrateReadModel(db);
    await events.migrate();
  });

  // Popular workflows are loaded before they are asked for: every five minutes the 50 workflow keys
  // read most in the last hour are refilled if missing or half-expired, and hot ones are recomputed
  // just before they expire (refresh-ahead). Loads go through the same definitions the routes read
  // through, so a warmed entry has the same dependencies and is invalidated like any other.
  const warmer = createWarmer({
    cache,
    concurrency: 4,
    // With Redis, instances share popularity and take turns: one runs each scheduled firing.
    ...(redis === undefined ? {} : { redis: redis.client, prefix: `${config.redisPrefix}warm` }),
    logger,
  });
  const isWorkflowKey = (key: string) => key.startsWith('workflow:');
  warmer.register('popular-workflows', {
    keys: popular({ top: 50, window: '1h', filter: isWorkflowKey }),
    match: isWorkflowKey,
    load: (key) => workflows.entryFor(key)?.load() ?? null,
    dependsOn: (key) => workflows.entryFor(key)?.dependsOn ?? [],
    ttl: CACHE_TTL_MS,
    schedule: config.warmSchedule,
    refreshAhead: true,
  });
  // After the migrations: the startup probe stays red until popular workflows are warm.
  health.startupTask('cache-warm', async () => {
    if ((await migrated.settled) === 'done') await warmer.startupTask();
  });

  // Registered in closing order: stop taking work, flush, then the connections the rest needs.
  const closers: Array<[string, () => unknown]> = [
    ['cache-warm', () => warmer.stop()],
    ['sandbox', () => closeSandbox()],
    ['api-keys', () => keys.close()],
    ['cache', () => cache.close()],
    ['event-store', () => events.close()],
    ['database', () => db.destroy()],
    ['redis', () => redis?.close()],
    ['logger', () => logger.flush()],
  ];
  for (const [name, hook] of closers) health.onShutdown(name, hook);

  const probePaths = new Set(['/health/live', '/health/ready', '/health/startup']);
  const adminGuard = apiKeyMiddleware(keys, { scopes: [ADMIN_SCOPE] });
  return {
    config,
    logger,
    db,
    perf,
    bulkhead,
    keys,
    events,
    cache,
    warmer,
    redis,
    health,
    workflows,
    routes: workflowRoutes(workflows),
    adminGuard,
    eventLog: {
      prefix: '/admin/events',
      guard: adminGuard,
      aggregates: { workflow: workflowAggregate },
      resolveAggregate: (streamId) => (streamId.startsWith('workflow-') ? 'workflow' : undefined),
    },
    isProbe: (ex) => probePaths.has(ex.path),
    isRead: (ex) => ex.method === 'GET' || ex.method === 'HEAD',
    started: () => health.started(),
    async close() {
      health.close();
      for (const [name, hook] of closers) {
        try {
          await hook();
        } catch (error) {
          logger.warn(`closing ${name} failed`, { error: String(error) });
        }
      }
    },
  };
}

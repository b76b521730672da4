/**
 * `createDbPerf`: the instrumentation that sits on a Kysely instance. Kysely's `log` hook gives the
 * executed SQL and its duration; a `KyselyPlugin` sees the query being built (for the call site) and
 * its result (for the row count). Both meet by query id.
 */
import { performance } from 'node:perf_hooks';
import { currentContext } from '@plat/core';
import type {
  Kysely,
  KyselyPlugin,
  LogEvent,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryId,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import { type CapturedStack, captureStack, currentCallSiteLabel, resolveCallSite } from './call-site';
import { DbPerfError } from './errors';
import { FingerprintCache, hashParameters, type QueryFingerprint } from './fingerprint';
import { isInternalQuery } from './internal-queries';
import { readPgStatStatements } from './pg-stat-statements';
import { type AnalyzableQuery, analyzeQuery, detectDialect } from './query-analysis';
import { type FingerprintStats, QueryStatsStore } from './query-stats';
import type {
  AnalyzeOptions,
  DbPerfLogger,
  DbPerfOptions,
  NPlusOneReport,
  PgStatStatementsOptions,
  PgStatStatementsResult,
  QueryAnalysis,
  QueryStatsReport,
  ReportOptions,
  SlowQueryEvent,
  SqlDialect,
} from './types';
import { currentUnitOfWork, type NPlusOnePolicy, nPlusOnePolicy, type UnitOfWork } from './unit-of-work';

// biome-ignore lint/suspicious/noExplicitAny: the schema type of the user's Kysely is irrelevant here
type AnyKysely = Kysely<any>;

/** The instrumentation returned by `createDbPerf`. */
export interface DbPerf {
  /**
   * Kysely's `log` option: pass it to `new Kysely({ dialect, log: perf.log })`. To keep a logger of
   * your own, call `perf.log(event)` from it.
   */
  readonly log: (event: LogEvent) => void;
  /**
   * Adds the db-perf plugin to a Kysely instance and returns the instrumented instance (use that one
   * for queries). The instance is also used for automatic EXPLAINs and `analyze`.
   */
  attach<DB>(db: Kysely<DB>): Kysely<DB>;
  /** The dialect, given in the options or detected on `attach`. */
  readonly dialect: SqlDialect | undefined;
  /** Statistics per fingerprint since creation or the last `reset`. */
  report(options?: ReportOptions): QueryStatsReport;
  /** Clears the statistics. */
  reset(): void;
  /** EXPLAIN a query with findings and index advice (see `analyzeQuery`), on the attached database. */
  analyze(query: AnalyzableQuery, options?: AnalyzeOptions): Promise<QueryAnalysis>;
  /** Reads `pg_stat_statements` on the attached database (see `readPgStatStatements`). */
  readPgStatStatements(options?: PgStatStatementsOptions): Promise<PgStatStatementsResult>;
  /** Waits for automatic EXPLAINs in flight and the slow-query events waiting for them. */
  flush(): Promise<void>;
}

/** A query being built or run, between the plugin and the log hook. */
interface Pending {
  readonly node: RootOperationNode;
  readonly db: AnyKysely;
  readonly startedAt: number;
  readonly label: string | undefined;
  /** Rows of streamed chunks, which arrive before the log event. */
  rows: number;
}

/** A query that ran and waits for its result to be counted. */
interface Executed {
  readonly fingerprint: QueryFingerprint;
  readonly stats: FingerprintStats | undefined;
  readonly durationMs: number;
  readonly thresholdMs: number;
  readonly slow: boolean;
  readonly failed: boolean;
  readonly pending: Pending | undefined;
  /** Captured only for slow queries and repeats inside a unit of work. */
  readonly stack: CapturedStack | undefined;
  readonly requestId: string | undefined;
  /** Kept only for slow queries to EXPLAIN them; never logged or reported. */
  readonly sql: string;
  readonly parameters: readonly unknown[] | undefined;
}

const PENDING_PER_QUERY = 8;

/** Writes one JSON line per event on stderr. */
const stderrLogger: DbPerfLogger = {
  warn(message, fields) {
    process.stderr.write(`${JSON.stringify({ level: 'warn', message, ...fields })}\n`);
  },
};

/**
 * Creates the instrumentation for one or more Kysely instances: per-fingerprint statistics,
 * slow-query events with call sites (and rate-limited automatic EXPLAIN), and N+1 detection inside
 * units of work.
 *
 * @example
 * ```ts
 * const perf = createDbPerf({ slowQueryMs: 200, explainSlowQueries: true });
 * const db = perf.attach(new Kysely<DB>({ dialect, log: perf.log }));
 * await db.selectFrom('users').selectAll().execute();
 * perf.report().queries[0]; // { fingerprint: 'select * from "users"', calls: 1, ... }
 * ```
 */
export function createDbPerf(options: DbPerfOptions = {}): DbPerf {
  return new DbPerfInstance(options);
}

class DbPerfInstance implements DbPerf {
  readonly #fingerprints = new FingerprintCache();
  readonly #stats: QueryStatsStore;
  readonly #pending = new WeakMap<QueryId, Pending[]>();
  readonly #executed = new WeakMap<QueryId, Executed[]>();
  readonly #policy: NPlusOnePolicy;
  readonly #logger: DbPerfLogger | undefined;
  readonly #options: DbPerfOptions;
  readonly #explain: Required<Exclude<DbPerfOptions['explainSlowQueries'], boolean | undefined>> | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #lastExplained = new Map<string, number>();
  readonly #plugins = new WeakSet<KyselyPlugin>();
  #explainTokens: number;
  #explainRefilledAt = performance.now();
  /** Databases whose Kysely instance calls `perf.log`; the others are timed by the plugin alone. */
  readonly #loggedDbs = new WeakSet<AnyKysely>();
  #warnedNoLog = false;
  #dialect: SqlDialect | undefined;
  #db: AnyKysely | undefined;

  constructor(options: DbPerfOptions) {
    validate(options);
    this.#options = options;
    this.#dialect = options.dialect;
    this.#logger = options.logger === false ? undefined : (options.logger ?? stderrLogger);
    this.#stats = new QueryStatsStore(options.maxFingerprints ?? 2000, (fingerprint) =>
      this.#thresholdFor(fingerprint),
    );
    this.#policy = nPlusOnePolicy(options.nPlusOne, options.ignoreCallSites ?? [], (report) =>
      this.#reportNPlusOne(report),
    );
    const explain = options.explainSlowQueries;
    this.#explain =
      explain === undefined || explain === false
        ? undefined
        : {
            maxPerMinute: (explain === true ? undefined : explain.maxPerMinute) ?? 6,
            perFingerprintIntervalMs:
              (explain === true ? undefined : explain.perFingerprintIntervalMs) ?? 600_000,
            analyze: (explain === true ? undefined : explain.analyze) ?? false,
            adviseIndexes: (explain === true ? undefined : explain.adviseIndexes) ?? true,
          };
    this.#explainTokens = this.#explain?.maxPerMinute ?? 0;
  }

  get dialect(): SqlDialect | undefined {
    return this.#dialect;
  }

  readonly log = (event: LogEvent): void => {
    const query = event.query;
    if (isInternalQuery(query)) return;
    const pending = this.#pending.get(query.queryId)?.shift();
    if (pending !== undefined) this.#loggedDbs.add(pending.db);
    const failed = event.level === 'error';
    const streamed = event.level === 'query' && event.isStream === true;
    this.#executedQuery(
      query.sql,
      query.parameters,
      event.queryDurationMillis,
      failed,
      pending,
      query.queryId,
      streamed,
    );
  };

  attach<DB>(db: Kysely<DB>): Kysely<DB> {
    if (db.getExecutor().plugins.some((plugin) => this.#plugins.has(plugin))) return db;
    this.#dialect ??= detectDialect(db);
    this.#db ??= db;
    const plugin = this.#pluginFor(db);
    this.#plugins.add(plugin);
    return db.withPlugin(plugin);
  }

  report(options?: ReportOptions): QueryStatsReport {
    return this.#stats.report(options);
  }

  reset(): void {
    this.#stats.reset();
  }

  analyze(query: AnalyzableQuery, options: AnalyzeOptions = {}): Promise<QueryAnalysis> {
    const db = this.#requireDb('analyze');
    return analyzeQuery(db, query, {
      ...options,
      ...(this.#dialect === undefined ? {} : { dialect: this.#dialect }),
    });
  }

  readPgStatStatements(options?: PgStatStatementsOptions): Promise<PgStatStatementsResult> {
    return readPgStatStatements(this.#requireDb('readPgStatStatements'), options);
  }

  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  #requireDb(what: string): AnyKysely {
    if (this.#db === undefined) {
      throw new DbPerfError('NOT_ATTACHED', `perf.${what}() needs a database: call perf.attach(db) first`);
    }
    return this.#db;
  }

  #pluginFor(db: AnyKysely): KyselyPlugin {
    const pending = this.#pending;
    return {
      transformQuery: ({ node, queryId }: PluginTransformQueryArgs): RootOperationNode => {
        const entry: Pending = {
          node,
          db,
          startedAt: performance.now(),
          label: currentCallSiteLabel(),
          rows: 0,
        };
        const queue = pending.get(queryId);
        if (queue === undefined) pending.set(queryId, [entry]);
        else {
          // A builder compiled but never run leaves an entry behind; keep the queue short.
          if (queue.length >= PENDING_PER_QUERY) queue.shift();
          queue.push(entry);
        }
        return node;
      },
      transformResult: async ({
        result,
        queryId,
      }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => {
        this.#resultOf(queryId, result);
        return result;
      },
    };
  }

  #executedQuery(
    sql: string,
    parameters: readonly unknown[],
    durationMs: number,
    failed: boolean,
    pending: Pending | undefined,
    queryId: QueryId,
    streamed: boolean,
    fallbackRows?: number,
  ): void {
    let unit: UnitOfWork | undefined;
    let fingerprint: QueryFingerprint;
    let executed: Executed;
    let stack: CapturedStack | undefined;
    try {
      fingerprint = this.#fingerprints.get(sql);
      if (this.#options.skip?.(fingerprint) === true) return;
      const stats = this.#stats.entry(fingerprint);
      stats?.record(durationMs, failed);
      unit = currentUnitOfWork();
      const thresholdMs = stats?.thresholdMs ?? this.#thresholdFor(fingerprint);
      const slow = !failed && durationMs >= thresholdMs;
      if (slow && stats !== undefined) stats.slow++;
      // The stack is captured here, not when the query is built: this runs inside the caller's await
      // chain, so V8's async frames still lead to the application, and only the queries that need a
      // call site (slow ones, repeats in a unit of work) pay for it.
      const wantsStack =
        this.#options.callSites !== false &&
        pending?.label === undefined &&
        (slow || (unit !== undefined && !failed && unit.isRepeat(fingerprint.id, this.#policy)));
      stack = wantsStack ? captureStack() : undefined;
      executed = {
        fingerprint,
        stats,
        durationMs,
        thresholdMs,
        slow,
        failed,
        pending,
        stack,
        requestId: unit?.requestId ?? currentContext()?.requestId,
        sql,
        parameters: slow && this.#explain !== undefined ? parameters : undefined,
      };
      if (failed) {
        if (unit !== undefined) {
          unit.queries++;
          unit.totalMs += durationMs;
          unit.failedQueries++;
        }
        this.#finish(executed, undefined);
        return;
      }
      if (slow && unit !== undefined) unit.slowQueries++;
      if (fallbackRows !== undefined) this.#finish(executed, fallbackRows);
      else if (streamed) this.#finish(executed, pending?.rows);
      // No plugin saw it build (a Kysely instance with `log: perf.log` but not attached, or a raw
      // CompiledQuery): no result will be counted either, so finish now without rows.
      else if (pending === undefined) this.#finish(executed, undefined);
      else {
        const queue = this.#executed.get(queryId);
        if (queue === undefined) this.#executed.set(queryId, [executed]);
        else queue.push(executed);
      }
    } catch {
      // Instrumentation must never fail a query; only N+1 `throw` mode does, on purpose (below).
      return;
    }
    // Last, because in `throw` mode this fails the query on purpose.
    unit?.record(
      {
        fingerprint,
        parameterHash: hashParameters(parameters),
        durationMs,
        stack,
        label: pending?.label,
      },
      this.#policy,
    );
  }

  #resultOf(queryId: QueryId, result: QueryResult<UnknownRow>): void {
    try {
      const rows =
        result.rows.length > 0 || result.numAffectedRows === undefined
          ? result.rows.length
          : Number(result.numAffectedRows);
      const executed = this.#executed.get(queryId)?.shift();
      if (executed !== undefined) {
        this.#finish(executed, rows);
        return;
      }
      const queue = this.#pending.get(queryId);
      const pending = queue?.[0];
      if (pending === undefined) return;
      if (this.#loggedDbs.has(pending.db)) {
        pending.rows += rows; // a streamed chunk; the log event comes after the last one
        return;
      }
      queue!.shift();
      this.#warnNoLog();
      // Without the log hook, time from build to result (includes waiting for a connection).
      const compiled = pending.db.getExecutor().compileQuery(pending.node, queryId);
      this.#executedQuery(
        compiled.sql,
        compiled.parameters,
        performance.now() - pending.startedAt,
        false,
        pending,
        queryId,
        false,
        rows,
      );
    } catch (error) {
      if (error instanceof DbPerfError && error.code === 'N_PLUS_ONE') throw error;
    }
  }

  #finish(executed: Executed, rows: number | undefined): void {
    if (rows !== undefined) executed.stats?.addRows(rows);
    const onQuery = this.#options.onQuery;
    if (onQuery !== undefined) {
      safely(() =>
        onQuery({
          fingerprint: executed.fingerprint.text,
          fingerprintId: executed.fingerprint.id,
          durationMs: executed.durationMs,
          rows,
          failed: executed.failed,
          requestId: executed.requestId,
        }),
      );
    }
    if (executed.slow) this.#slowQuery(executed, rows);
  }

  #slowQuery(executed: Executed, rows: number | undefined): void {
    const { pending, fingerprint } = executed;
    const callSite =
      pending?.label ??
      (executed.stack === undefined
        ? undefined
        : resolveCallSite(executed.stack, this.#options.ignoreCallSites ?? [])?.text);
    if (executed.stats !== undefined && callSite !== undefined) executed.stats.lastCallSite = callSite;
    const event: SlowQueryEvent = {
      type: 'slow-query',
      fingerprint: fingerprint.text,
      fingerprintId: fingerprint.id,
      durationMs: Math.round(executed.durationMs * 1000) / 1000,
      thresholdMs: executed.thresholdMs,
      rows,
      callSite,
      requestId: executed.requestId,
      dialect: this.#dialect,
      at: new Date().toISOString(),
    };
    const explain = this.#explain;
    const db = pending?.db ?? this.#db;
    if (
      explain === undefined ||
      db === undefined ||
      executed.parameters === undefined ||
      !this.#mayExplain(fingerprint)
    ) {
      this.#deliverSlow(event);
      return;
    }
    const query = { sql: executed.sql, parameters: executed.parameters, query: pending?.node };
    const done = analyzeQuery(db, query, {
      analyze: explain.analyze,
      adviseIndexes: explain.adviseIndexes,
      ...(this.#dialect === undefined ? {} : { dialect: this.#dialect }),
    }).then(
      (analysis): SlowQueryEvent => ({
        ...event,
        plan: { totalCost: analysis.totalCost, findings: analysis.findings, indexes: analysis.indexes },
      }),
      (error: unknown): SlowQueryEvent => ({
        ...event,
        planError: error instanceof Error ? error.message : String(error),
      }),
    );
    const delivered = done.then((full) => this.#deliverSlow(full));
    this.#inFlight.add(delivered);
    void delivered.finally(() => this.#inFlight.delete(delivered));
  }

  #mayExplain(fingerprint: QueryFingerprint): boolean {
    const explain = this.#explain!;
    const now = performance.now();
    const last = this.#lastExplained.get(fingerprint.id);
    if (last !== undefined && now - last < explain.perFingerprintIntervalMs) return false;
    this.#explainTokens = Math.min(
      explain.maxPerMinute,
      this.#explainTokens + ((now - this.#explainRefilledAt) * explain.maxPerMinute) / 60_000,
    );
    this.#explainRefilledAt = now;
    if (this.#explainTokens < 1) return false;
    this.#explainTokens--;
    this.#lastExplained.set(fingerprint.id, now);
    if (this.#lastExplained.size > 10_000) this.#lastExplained.clear();
    return true;
  }

  #deliverSlow(event: SlowQueryEvent): void {
    const logger = this.#logger;
    if (logger !== undefined) safely(() => logger.warn('slow query', { ...event }));
    const hook = this.#options.onSlowQuery;
    if (hook !== undefined) safely(() => hook(event));
  }

  #reportNPlusOne(report: NPlusOneReport): void {
    const logger = this.#logger;
    if (logger !== undefined) safely(() => logger.warn('N+1 query', { ...report }));
    const hook = this.#options.onNPlusOne;
    if (hook !== undefined) safely(() => hook(report));
  }

  #warnNoLog(): void {
    if (this.#warnedNoLog) return;
    this.#warnedNoLog = true;
    const logger = this.#logger;
    if (logger !== undefined) {
      safely(() =>
        logger.warn('db-perf: no kysely log events; durations include connection waits', {
          hint: 'create the Kysely instance with `log: perf.log` for exact query durations',
        }),
      );
    }
  }

  #thresholdFor(fingerprint: QueryFingerprint): number {
    for (const override of this.#options.slowQueryOverrides ?? []) {
      const { match } = override;
      const hit =
        typeof match === 'string'
          ? match === fingerprint.id || fingerprint.text.includes(match)
          : match.test(fingerprint.text);
      if (hit) return override.thresholdMs;
    }
    return this.#options.slowQueryMs ?? 1000;
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Hooks and loggers belong to the application; their failures must not fail queries.
  }
}

function validate(options: DbPerfOptions): void {
  const nonNegative = (value: number | undefined, name: string) => {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new DbPerfError('INVALID_OPTIONS', `${name} must be a finite number >= 0 (got ${String(value)})`);
    }
  };
  nonNegative(options.slowQueryMs, 'slowQueryMs');
  for (const override of options.slowQueryOverrides ?? [])
    nonNegative(override.thresholdMs, 'slowQueryOverrides[].thresholdMs');
  const threshold = options.nPlusOne?.threshold;
  if (threshold !== undefined && !(Number.isInteger(threshold) && threshold >= 2)) {
    throw new DbPerfError(
      'INVALID_OPTIONS',
      `nPlusOne.threshold must be an integer >= 2 (got ${String(threshold)})`,
    );
  }
  const mode = options.nPlusOne?.mode;
  if (mode !== undefined && !['off', 'warn', 'throw'].includes(mode)) {
    throw new DbPerfError(
      'INVALID_OPTIONS',
      `nPlusOne.mode must be 'off', 'warn' or 'throw' (got ${String(mode)})`,
    );
  }
  const max = options.maxFingerprints;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
    throw new DbPerfError('INVALID_OPTIONS', `maxFingerprints must be an integer >= 1 (got ${String(max)})`);
  }
  const explain = options.explainSlowQueries;
  if (typeof explain === 'object') {
    nonNegative(explain.maxPerMinute, 'explainSlowQueries.maxPerMinute');
    nonNegative(explain.perFingerprintIntervalMs, 'explainSlowQueries.perFingerprintIntervalMs');
  }
}

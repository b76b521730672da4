/**
 * Public types and options of @plat/db-perf.
 */

/** The SQL dialects db-perf understands. */
export type SqlDialect = 'postgres' | 'sqlite';

/** One executed query, as passed to `onQuery` (no parameter values, ever). */
export interface QueryEvent {
  /** The normalized SQL: every literal and placeholder folded to `?`. */
  readonly fingerprint: string;
  /** 16 hex characters identifying the fingerprint. */
  readonly fingerprintId: string;
  readonly durationMs: number;
  /** Rows returned (or affected, for writes); undefined when the query failed. */
  readonly rows: number | undefined;
  readonly failed: boolean;
  /** The request id of the request context the query ran in, if any. */
  readonly requestId: string | undefined;
}

/** A slow query, logged once per execution over its threshold. It never carries parameter values. */
export interface SlowQueryEvent {
  readonly type: 'slow-query';
  readonly fingerprint: string;
  readonly fingerprintId: string;
  readonly durationMs: number;
  readonly thresholdMs: number;
  readonly rows: number | undefined;
  /** Where the query was issued (`function (file:line:column)`), when known. */
  readonly callSite: string | undefined;
  readonly requestId: string | undefined;
  readonly dialect: SqlDialect | undefined;
  /** ISO time the query finished. */
  readonly at: string;
  /** Findings and index advice of the automatic `EXPLAIN`, when one ran for this event. */
  readonly plan?: SlowQueryPlan;
  /** Why the automatic `EXPLAIN` failed, when it did. */
  readonly planError?: string;
}

/** The part of a plan analysis attached to a slow-query event. */
export interface SlowQueryPlan {
  readonly totalCost: number | undefined;
  readonly findings: readonly PlanFinding[];
  readonly indexes: readonly IndexRecommendation[];
}

/** A per-fingerprint slow-query threshold. */
export interface SlowQueryOverride {
  /**
   * A string matches a fingerprint id exactly or is found inside the fingerprint text; a RegExp is
   * tested against the fingerprint text.
   */
  readonly match: string | RegExp;
  readonly thresholdMs: number;
}

/** Automatic `EXPLAIN` of slow queries. */
export interface ExplainSlowQueriesOptions {
  /** At most this many automatic EXPLAINs per minute, across all fingerprints. @default 6 */
  maxPerMinute?: number;
  /** The same fingerprint is explained at most once per this interval. @default 600000 (10 minutes) */
  perFingerprintIntervalMs?: number;
  /**
   * Run `EXPLAIN ANALYZE` (PostgreSQL), which executes the query again. Only applied to SELECT
   * statements. @default false
   */
  analyze?: boolean;
  /** Also compute index advice for explained queries (hypopg-validated when installed). @default true */
  adviseIndexes?: boolean;
}

/** What to do when the same query shape repeats from one call site inside one unit of work. */
export type NPlusOneMode = 'off' | 'warn' | 'throw';

/** N+1 detection. */
export interface NPlusOneOptions {
  /**
   * `warn` reports once per unit of work (log line and `onNPlusOne`); `throw` fails the query that
   * reaches the threshold with a `N_PLUS_ONE` error (meant for test suites); `off` disables it.
   * @default 'warn'
   */
  mode?: NPlusOneMode;
  /** Executions with distinct parameters, from one call site, that make an N+1. @default 5 */
  threshold?: number;
  /**
   * Allowed repetitions: a string equal to a fingerprint id or contained in the fingerprint text or
   * the call site, or a RegExp tested against both. @default []
   */
  allow?: ReadonlyArray<string | RegExp>;
}

/** One N+1 pattern found in a unit of work, reported once. */
export interface NPlusOneReport {
  readonly type: 'n-plus-one';
  readonly fingerprint: string;
  readonly fingerprintId: string;
  readonly callSite: string;
  /** How many times the query ran from that call site in the unit of work. */
  readonly count: number;
  /** How many of those runs had distinct parameters (values themselves are never kept). */
  readonly distinctParameters: number;
  readonly totalMs: number;
  readonly requestId: string | undefined;
  /** What to do instead: a batch loader or a join. */
  readonly suggestion: string;
}

/** What a unit of work (a request, or an explicit `unitOfWork`) did with the database. */
export interface UnitOfWorkSummary {
  readonly requestId: string | undefined;
  readonly queries: number;
  readonly totalMs: number;
  readonly failedQueries: number;
  readonly slowQueries: number;
  readonly nPlusOne: readonly NPlusOneReport[];
}

/** Options of one unit of work; they override the instance's N+1 options for its queries. */
export interface UnitOfWorkOptions {
  nPlusOne?: NPlusOneOptions;
  /** Called once when the unit ends, with what it did. */
  onSummary?: (summary: UnitOfWorkSummary) => void;
}

/** Where db-perf writes its events; winston's and @plat/logging's loggers fit. */
export interface DbPerfLogger {
  warn(message: string, fields: Record<string, unknown>): void;
}

/** Options of `createDbPerf`. */
export interface DbPerfOptions {
  /** The dialect; detected from the Kysely adapter on `attach` when omitted. @default detected */
  dialect?: SqlDialect;
  /** Queries at or over this duration are slow. @default 1000 */
  slowQueryMs?: number;
  /** Per-fingerprint thresholds; the first match wins. @default [] */
  slowQueryOverrides?: readonly SlowQueryOverride[];
  /** Automatic, rate-limited `EXPLAIN` of slow queries. `true` uses the defaults. @default false */
  explainSlowQueries?: boolean | ExplainSlowQueriesOptions;
  /** N+1 detection inside units of work. @default { mode: 'warn', threshold: 5, allow: [] } */
  nPlusOne?: NPlusOneOptions;
  /**
   * Find the call site of slow queries and of repeated queries inside a unit of work. The stack is
   * captured (from the await chain, in the log hook) only for those, so single fast queries never
   * pay for it. @default true
   */
  callSites?: boolean;
  /** Stack frames in files matching these are skipped when finding the call site (your data layer). @default [] */
  ignoreCallSites?: readonly RegExp[];
  /** Distinct fingerprints kept in the statistics; later new ones are counted as dropped. @default 2000 */
  maxFingerprints?: number;
  /** Queries to leave out entirely (health checks, say). @default none */
  skip?: (fingerprint: { text: string; id: string }) => boolean;
  /** Where slow queries and N+1 reports are written; `false` for nowhere. @default JSON lines on stderr */
  logger?: DbPerfLogger | false;
  /** Called for every slow query (after its automatic EXPLAIN, when one runs). */
  onSlowQuery?: (event: SlowQueryEvent) => void;
  /** Called once per N+1 pattern per unit of work. */
  onNPlusOne?: (report: NPlusOneReport) => void;
  /** Called for every query, for metrics. Keep it cheap. */
  onQuery?: (event: QueryEvent) => void;
}

/** Statistics of one fingerprint. */
export interface QueryStats {
  readonly fingerprint: string;
  readonly fingerprintId: string;
  readonly calls: number;
  readonly failed: number;
  readonly totalMs: number;
  readonly meanMs: number;
  /** Within about 5 % (log-scale histogram). */
  readonly p95Ms: number;
  readonly maxMs: number;
  /** Rows returned or affected, summed. */
  readonly rows: number;
  readonly meanRows: number;
  readonly slow: number;
  readonly thresholdMs: number;
  /** The call site of the latest slow or repeated execution, when one was resolved. */
  readonly lastCallSite: string | undefined;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
}

/** Sort keys for `report`. */
export type QueryStatsOrder = 'totalMs' | 'meanMs' | 'p95Ms' | 'maxMs' | 'calls' | 'rows';

export interface ReportOptions {
  /** @default 'totalMs' */
  orderBy?: QueryStatsOrder;
  /** @default 50 */
  limit?: number;
}

/** The in-process statistics. */
export interface QueryStatsReport {
  /** ISO time statistics started (creation or last `reset`). */
  readonly since: string;
  readonly totalCalls: number;
  readonly totalMs: number;
  readonly fingerprints: number;
  /** Executions of fingerprints not tracked because `maxFingerprints` was reached. */
  readonly droppedCalls: number;
  readonly queries: readonly QueryStats[];
}

/** How serious a plan finding is. */
export type Severity = 'high' | 'medium' | 'low';

/** The kinds of plan findings. */
export type PlanFindingKind =
  | 'seq-scan-filter'
  | 'sort-spill'
  | 'nested-loop-seq-scan'
  | 'estimate-error'
  | 'full-scan'
  | 'temp-sort';

/** One problem found in a query plan. */
export interface PlanFinding {
  readonly kind: PlanFindingKind;
  readonly severity: Severity;
  /** The plan node type (`Seq Scan`, `Sort`...) or SQLite's plan line. */
  readonly node: string;
  readonly relation?: string;
  readonly message: string;
  readonly suggestion: string;
  /** The numbers behind the finding (rows scanned, removed, loops, estimate ratio...). */
  readonly metrics: Readonly<Record<string, number>>;
}

/** How much an index recommendation can be trusted. */
export type AdviceConfidence = 'high' | 'medium' | 'low';

/** An index worth creating. */
export interface IndexRecommendation {
  readonly table: string;
  readonly schema: string | undefined;
  readonly columns: readonly string[];
  /** `CREATE INDEX CONCURRENTLY ...` on PostgreSQL, `CREATE INDEX ...` on SQLite. */
  readonly statement: string;
  /** `high` when validated with hypopg; `medium`/`low` for heuristics. */
  readonly confidence: AdviceConfidence;
  readonly validated: boolean;
  /** Planner cost of the query now, and with the hypothetical index (validated advice only). */
  readonly costBefore: number | undefined;
  readonly costAfter: number | undefined;
  /** 1 - costAfter / costBefore (validated advice only). */
  readonly improvement: number | undefined;
  readonly reason: string;
}

/** A candidate index that was considered and not recommended. */
export interface RejectedIndex {
  readonly table: string;
  readonly columns: readonly string[];
  readonly reason: string;
  readonly costBefore: number | undefined;
  readonly costAfter: number | undefined;
}

/** Whether hypopg validated the index advice. */
export type HypopgStatus = 'used' | 'not-installed' | 'disabled' | 'not-postgres';

/** The result of analyzing one query. */
export interface QueryAnalysis {
  readonly dialect: SqlDialect;
  readonly fingerprint: string;
  readonly fingerprintId: string;
  /** PostgreSQL's JSON plan (the object inside the top-level array) or SQLite's plan rows. */
  readonly plan: unknown;
  readonly analyzed: boolean;
  readonly totalCost: number | undefined;
  readonly findings: readonly PlanFinding[];
  readonly indexes: readonly IndexRecommendation[];
  readonly rejected: readonly RejectedIndex[];
  readonly hypopg: HypopgStatus;
}

/** Options of `analyzeQuery` / `perf.analyze`. */
export interface AnalyzeOptions {
  /** `EXPLAIN ANALYZE` (executes the query; SELECT only). @default false */
  analyze?: boolean;
  /** Compute index advice. @default true */
  adviseIndexes?: boolean;
  /** Validate advice with hypopg when installed. @default true */
  hypopg?: boolean;
  /** Tables with at least this many rows count as large. @default 10000 */
  largeTableRows?: number;
  /** Minimum planner cost of a query for an index to be worth it (Dexter's rule). @default 100 */
  minCost?: number;
  /** Minimum cost reduction (0..1) a hypothetical index must bring. @default 0.5 */
  minImprovement?: number;
}

/** One row of `pg_stat_statements` (its text is normalized again, so no literal survives). */
export interface PgStatStatement {
  readonly queryId: string;
  readonly query: string;
  readonly calls: number;
  readonly totalMs: number;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly rows: number;
  readonly sharedBlocksHit: number;
  readonly sharedBlocksRead: number;
}

/** Why `pg_stat_statements` could not be read. */
export type PgStatStatementsUnavailable =
  | 'not-postgres'
  | 'not-installed'
  | 'not-loaded'
  | 'no-permission'
  | 'error';

/** The result of reading `pg_stat_statements`: rows, or why there are none. */
export type PgStatStatementsResult =
  | { readonly available: true; readonly statements: readonly PgStatStatement[] }
  | { readonly available: false; readonly reason: PgStatStatementsUnavailable; readonly message: string };

export interface PgStatStatementsOptions {
  /** @default 'totalMs' */
  orderBy?: 'totalMs' | 'meanMs' | 'calls' | 'maxMs';
  /** @default 50 */
  limit?: number;
  /** Keep utility statements (SET, VACUUM...). They are left out by default. @default false */
  includeUtility?: boolean;
}

/** Options of `createBulkhead`. */
export interface BulkheadOptions {
  /** Work items running at once (usually the pool size or a little less). */
  concurrency: number;
  /** Work items waiting for a slot; beyond this, work is rejected with `OVERLOADED`. @default concurrency * 2 */
  maxQueue?: number;
  /** Longest wait for a slot before rejecting with `OVERLOADED`. @default 2000 */
  queueTimeoutMs?: number;
  /** Name in stats and errors. @default 'db' */
  name?: string;
}

/** What a bulkhead is doing now, and has done. */
export interface BulkheadStats {
  readonly name: string;
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly active: number;
  readonly queued: number;
  readonly admitted: number;
  readonly completed: number;
  /** Rejected because the queue was full. */
  readonly rejected: number;
  /** Rejected after waiting `queueTimeoutMs`. */
  readonly timedOut: number;
  /** Mean time work held a slot, in ms (used for `Retry-After`). */
  readonly meanServiceMs: number;
}

/** Options of one `bulkhead.run` / `bulkhead.acquire`. */
export interface BulkheadRunOptions {
  /** Abandon the wait (and reject) when this signal aborts. */
  signal?: AbortSignal;
}

/** Options of `createLoader`. */
export interface LoaderOptions<Table extends string, Key extends string, Column extends string> {
  readonly table: Table;
  /** The unique column loaded by (`id`). */
  readonly key: Key;
  /** Columns to select; the key is always selected. @default all columns */
  readonly columns?: readonly Column[];
  /** Keys per query. @default 500 */
  readonly maxBatchSize?: number;
}

/** Options of `createRelationLoader`. */
export interface RelationLoaderOptions<Table extends string, Key extends string, Column extends string> {
  readonly table: Table;
  /** The column holding the parent's key (`author_id`). */
  readonly foreignKey: Key;
  /** Columns to select; the foreign key is always selected. @default all columns */
  readonly columns?: readonly Column[];
  /** Order of the rows within each parent's list. @default none (the database's order) */
  readonly orderBy?: Column | Key;
  /** Parent keys per query. @default 500 */
  readonly maxBatchSize?: number;
}

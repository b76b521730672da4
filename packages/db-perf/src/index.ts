export { type CallSite, withCallSiteLabel } from './call-site';
export { type Bulkhead, createBulkhead, gatherWithConcurrency } from './concurrency';
export { createDbPerf, type DbPerf } from './db-perf';
export { DbPerfError, DbPerfErrorCode } from './errors';
export { fingerprintOf, normalizeSql, type QueryFingerprint } from './fingerprint';
export {
  type BulkheadMiddlewareOptions,
  bulkheadMiddleware,
  currentDbSummary,
  type DbStatsBody,
  type DbStatsRouteOptions,
  dbLogFields,
  dbStatsRoutes,
  type RequestUnitOfWorkOptions,
  requestUnitOfWork,
  serverTiming,
} from './http';
export { dbPerfErrorStatus } from './http-status';
export { createLoader, createRelationLoader, type Loader, type RelationLoader } from './loaders';
export { readPgStatStatements } from './pg-stat-statements';
export { analyzePostgresPlan, analyzeSqlitePlan, type PgPlanNode, type SqlitePlanRow } from './plan-analysis';
export { type AnalyzableQuery, analyzeQuery, detectDialect } from './query-analysis';
export type {
  AdviceConfidence,
  AnalyzeOptions,
  BulkheadOptions,
  BulkheadRunOptions,
  BulkheadStats,
  DbPerfLogger,
  DbPerfOptions,
  ExplainSlowQueriesOptions,
  HypopgStatus,
  IndexRecommendation,
  LoaderOptions,
  NPlusOneMode,
  NPlusOneOptions,
  NPlusOneReport,
  PgStatStatement,
  PgStatStatementsOptions,
  PgStatStatementsResult,
  PgStatStatementsUnavailable,
  PlanFinding,
  PlanFindingKind,
  QueryAnalysis,
  QueryEvent,
  QueryStats,
  QueryStatsOrder,
  QueryStatsReport,
  RejectedIndex,
  RelationLoaderOptions,
  ReportOptions,
  Severity,
  SlowQueryEvent,
  SlowQueryOverride,
  SlowQueryPlan,
  SqlDialect,
  UnitOfWorkOptions,
  UnitOfWorkSummary,
} from './types';
export { profileUnitOfWork, unitOfWork } from './unit-of-work';

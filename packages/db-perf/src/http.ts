/**
 * HTTP behaviour written once for Express, Fastify and Koa: a unit of work per request (with an
 * optional `Server-Timing` header), bulkhead load shedding, and the `/_db/stats` endpoint.
 */
import type { ServerResponse } from 'node:http';
import type { HttpExchange, PlatMiddleware, PlatRoute } from '@plat/core';
import type { Bulkhead } from './concurrency';
import type { DbPerf } from './db-perf';
import type {
  NPlusOneOptions,
  PgStatStatementsResult,
  QueryStatsOrder,
  QueryStatsReport,
  UnitOfWorkSummary,
} from './types';
import { currentUnitOfWork, openUnitOfWork } from './unit-of-work';

/** Options of the per-request unit of work. */
export interface RequestUnitOfWorkOptions {
  /**
   * Adds `Server-Timing: db;dur=<ms>;desc="<n> queries"` to responses. It tells clients how long the
   * database took, so enable it where that is acceptable. @default false
   */
  serverTiming?: boolean;
  /** N+1 options for requests, overriding the instance's (`{ mode: 'throw' }` in tests). @default the instance's */
  nPlusOne?: NPlusOneOptions;
  /** Called when the response is finished, with what the request did; use it to extend your log line. */
  onSummary?: (summary: UnitOfWorkSummary, exchange: HttpExchange) => void;
  /** Requests to leave alone (health probes, say). @default none */
  skip?: (exchange: HttpExchange) => boolean;
}

/**
 * Opens a unit of work for every request, so N+1 detection counts per request and loaders are per
 * request; reports come out once when the response finishes.
 *
 * @example
 * ```ts
 * app.use(expressMiddleware(requestUnitOfWork({ serverTiming: true })));
 * ```
 */
export function requestUnitOfWork(options: RequestUnitOfWorkOptions = {}): PlatMiddleware {
  return (exchange) => {
    if (options.skip?.(exchange) === true) return undefined;
    const unit = openUnitOfWork(options.nPlusOne === undefined ? {} : { nPlusOne: options.nPlusOne });
    if (unit === undefined) return undefined;
    if (options.serverTiming === true) {
      beforeHeaders(exchange.res, () => {
        const summary = unit.summary();
        exchange.setHeader('server-timing', serverTiming(summary));
      });
    }
    exchange.onFinish(() => {
      const summary = unit.finish();
      // The request summary the request log line includes (see annotateRequest in @plat/core).
      if (summary.queries > 0) Object.assign(exchange.context.annotations, dbLogFields(summary));
      options.onSummary?.(summary, exchange);
    });
    return undefined;
  };
}

/** The `Server-Timing` value for a unit of work. */
export function serverTiming(summary: UnitOfWorkSummary): string {
  const n = summary.nPlusOne.length;
  const desc = `${summary.queries} ${summary.queries === 1 ? 'query' : 'queries'}${n > 0 ? `, ${n} N+1` : ''}`;
  return `db;dur=${summary.totalMs.toFixed(1)};desc="${desc}"`;
}

/**
 * Fields for a request log line from a unit of work's summary: query count, time and the N+1s (by
 * fingerprint id and call site; never parameters).
 *
 * @example
 * ```ts
 * logger.info('request', { ...dbLogFields(summary) }); // { db: { queries: 3, ms: 4.2, nPlusOne: [] } }
 * ```
 */
export function dbLogFields(summary: UnitOfWorkSummary): { db: Record<string, unknown> } {
  return {
    db: {
      queries: summary.queries,
      ms: Math.round(summary.totalMs * 100) / 100,
      slow: summary.slowQueries,
      failed: summary.failedQueries,
      nPlusOne: summary.nPlusOne.map((report) => ({
        fingerprintId: report.fingerprintId,
        callSite: report.callSite,
        count: report.count,
      })),
    },
  };
}

/**
 * What the current request (or unit of work) did with the database so far; undefined outside one.
 *
 * @example
 * ```ts
 * const summary = currentDbSummary(); // { queries: 2, totalMs: 1.8, nPlusOne: [], ... }
 * ```
 */
export function currentDbSummary(): UnitOfWorkSummary | undefined {
  return currentUnitOfWork()?.summary();
}

/** Options of the bulkhead middleware. */
export interface BulkheadMiddlewareOptions {
  /** Requests that bypass the bulkhead (health probes, say). @default none */
  skip?: (exchange: HttpExchange) => boolean;
}

/**
 * Holds a bulkhead slot from the start of a request until its response is finished; when the
 * bulkhead sheds the request, it is answered 503 with `Retry-After` (problem+json, code `OVERLOADED`,
 * with the active and queued counts).
 *
 * @example
 * ```ts
 * app.use(expressMiddleware(bulkheadMiddleware(createBulkhead({ concurrency: 10 })), { statusOf }));
 * ```
 */
export function bulkheadMiddleware(
  bulkhead: Bulkhead,
  options: BulkheadMiddlewareOptions = {},
): PlatMiddleware {
  return async (exchange) => {
    if (options.skip?.(exchange) === true) return undefined;
    const abandon = new AbortController();
    let release: (() => void) | undefined;
    // One listener: frees the slot after the response, or stops waiting when the client left.
    exchange.onFinish(() => {
      if (release !== undefined) release();
      else abandon.abort();
    });
    try {
      release = await bulkhead.acquire({ signal: abandon.signal });
    } catch (error) {
      if (abandon.signal.aborted) return { status: 503 }; // the client is gone; nobody reads this
      throw error;
    }
    if (exchange.res.writableEnded || exchange.res.destroyed) release();
    return undefined;
  };
}

/** Options of the `/_db/stats` route. */
export interface DbStatsRouteOptions {
  /** The instrumentation whose statistics to serve. */
  perf?: DbPerf;
  /** Bulkheads whose active and queued counts to serve. @default [] */
  bulkheads?: readonly Bulkhead[];
  /** Also read `pg_stat_statements` (PostgreSQL; reported as unavailable when it is not loaded). @default false */
  pgStatStatements?: boolean;
  /** The route path. @default '/_db/stats' */
  path?: string;
  /** Fingerprints per answer, unless `?limit=` asks for fewer or more (at most 500). @default 50 */
  limit?: number;
}

const ORDERS: readonly QueryStatsOrder[] = ['totalMs', 'meanMs', 'p95Ms', 'maxMs', 'calls', 'rows'];

/** The body of `/_db/stats`. */
export interface DbStatsBody {
  queries: QueryStatsReport | undefined;
  bulkheads: ReturnType<Bulkhead['stats']>[];
  pgStatStatements?: PgStatStatementsResult;
}

/**
 * `GET /_db/stats`: per-fingerprint statistics (`?orderBy=p95Ms&limit=20`), bulkhead counts and,
 * optionally, `pg_stat_statements`. It shows query shapes (never parameters); mount it behind an
 * admin guard.
 *
 * @example
 * ```ts
 * app.use(expressRoutes(dbStatsRoutes({ perf, bulkheads: [bulkhead] }), { guard: adminOnly }));
 * ```
 */
export function dbStatsRoutes(options: DbStatsRouteOptions): PlatRoute[] {
  const path = options.path ?? '/_db/stats';
  return [
    {
      method: 'GET',
      path,
      handler: async (exchange) => {
        const requestedOrder = String(exchange.query.orderBy ?? '');
        const orderBy = (ORDERS as readonly string[]).includes(requestedOrder)
          ? (requestedOrder as QueryStatsOrder)
          : 'totalMs';
        const requestedLimit = Number(exchange.query.limit);
        const limit =
          Number.isInteger(requestedLimit) && requestedLimit > 0
            ? Math.min(500, requestedLimit)
            : (options.limit ?? 50);
        const body: DbStatsBody = {
          queries: options.perf?.report({ orderBy, limit }),
          bulkheads: (options.bulkheads ?? []).map((bulkhead) => bulkhead.stats()),
        };
        if (options.pgStatStatements === true && options.perf !== undefined) {
          body.pgStatStatements = await options.perf.readPgStatStatements({ limit });
        }
        return { status: 200, headers: { 'cache-control': 'no-store' }, body };
      },
    },
  ];
}

/**
 * Calls `fn` right before the response head is written. No framework offers this for all three, but
 * each writes its head through Node's `writeHead`, so we wrap it for this response only.
 */
function beforeHeaders(res: ServerResponse, fn: () => void): void {
  const original = res.writeHead;
  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    res.writeHead = original;
    try {
      if (!res.headersSent) fn();
    } catch {
      // A timing header is never worth a failed response.
    }
    return (original as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
}

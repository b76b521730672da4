/**
 * Kysely tracing (`@plat/tracing/kysely`): one CLIENT span per query with the parameterized SQL and
 * the dialect, on any Kysely dialect (SQLite included, which has no OpenTelemetry instrumentation).
 */
import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  type SpanOptions,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  QueryCompiler,
  QueryResult,
} from 'kysely';
import { TracingError } from './errors';
import { ATTR } from './semconv';
import { markFailed, tracerFrom } from './tracer';

/** Options of `traceDialect`. */
export interface KyselyTracingOptions {
  /**
   * `db.system.name` (`postgresql`, `sqlite`, `mysql`, `microsoft.sql_server`...). Detected from the
   * dialect's adapter class; set it for third-party dialects or minified builds.
   * @default detected, or 'other_sql'
   */
  system?: string;
  /** `db.namespace`: the database name, when you want it on every span. @default undefined */
  namespace?: string;
  /**
   * Only trace queries run inside an existing span (a request, a job), so migrations at startup
   * and background polling do not create root traces of their own.
   * @default false
   */
  requireParentSpan?: boolean;
  /** Longest `db.query.text` recorded; longer SQL is cut (values are never in it either way). @default 4096 */
  maxQueryTextLength?: number;
  /** Use this provider instead of the global one (set by `setupTracing`). @default the global provider */
  tracerProvider?: TracerProvider;
}

/** Adapter class names of Kysely's built-in dialects, by `db.system.name`. */
const ADAPTER_SYSTEMS: ReadonlyArray<[string, string]> = [
  ['PostgresAdapter', 'postgresql'],
  ['SqliteAdapter', 'sqlite'],
  ['MysqlAdapter', 'mysql'],
  ['MssqlAdapter', 'microsoft.sql_server'],
];

/** Walks the adapter's class chain, so dialects built on a built-in adapter (PGlite, D1...) are recognised. */
function detectSystem(adapter: DialectAdapter): string {
  let proto: unknown = Object.getPrototypeOf(adapter);
  while (proto !== null && proto !== Object.prototype) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name;
    const match = ADAPTER_SYSTEMS.find(([className]) => className === name);
    if (match !== undefined) return match[1];
    proto = Object.getPrototypeOf(proto);
  }
  return 'other_sql';
}

interface QueryNode {
  kind: string;
  [key: string]: unknown;
}

const OPERATIONS: Readonly<Record<string, string>> = {
  SelectQueryNode: 'SELECT',
  InsertQueryNode: 'INSERT',
  UpdateQueryNode: 'UPDATE',
  DeleteQueryNode: 'DELETE',
  MergeQueryNode: 'MERGE',
};

function isNode(value: unknown): value is QueryNode {
  return typeof value === 'object' && value !== null && typeof (value as QueryNode).kind === 'string';
}

/** The table a TableNode or an aliased TableNode names (`schema.table` when qualified). */
function tableOf(node: unknown): string | undefined {
  if (!isNode(node)) return undefined;
  if (node.kind === 'AliasNode') return tableOf(node.node);
  if (node.kind !== 'TableNode') return undefined;
  const table = node.table as { schema?: { name?: string }; identifier?: { name?: string } } | undefined;
  const name = table?.identifier?.name;
  if (typeof name !== 'string') return undefined;
  return typeof table?.schema?.name === 'string' ? `${table.schema.name}.${name}` : name;
}

/** Tables a query reads or writes, from Kysely's operation tree (no SQL parsing). */
function tablesOf(node: QueryNode): string[] {
  const candidates: unknown[] = [];
  const from = node.from as { froms?: unknown[] } | undefined;
  if (Array.isArray(from?.froms)) candidates.push(...from.froms);
  if (node.into !== undefined) candidates.push(node.into);
  if (node.table !== undefined) candidates.push(node.table);
  if (Array.isArray(node.joins)) for (const join of node.joins) candidates.push((join as QueryNode).table);
  if (node.using !== undefined) candidates.push((node.using as QueryNode).table ?? node.using);
  const tables: string[] = [];
  for (const candidate of candidates) {
    const table = tableOf(candidate);
    if (table !== undefined && !tables.includes(table)) tables.push(table);
  }
  return tables;
}

const FIRST_KEYWORD = /^\s*([A-Za-z]+)/;

function describeQuery(query: CompiledQuery): { operation: string | undefined; tables: string[] } {
  const node = query.query as unknown;
  if (isNode(node)) {
    const operation = OPERATIONS[node.kind];
    if (operation !== undefined) {
      return { operation: node.replace === true ? 'REPLACE' : operation, tables: tablesOf(node) };
    }
  }
  // Raw SQL and schema statements: the leading keyword is the operation; tables are not guessed.
  const keyword = FIRST_KEYWORD.exec(query.sql)?.[1];
  return { operation: keyword?.toUpperCase(), tables: [] };
}

interface Settings {
  system: string;
  namespace: string | undefined;
  requireParentSpan: boolean;
  maxQueryTextLength: number;
  getTracer: ReturnType<typeof tracerFrom>;
}

const QUERY_SPAN_OPTIONS: SpanOptions = { kind: SpanKind.CLIENT };

function startQuerySpan(
  settings: Settings,
  query: CompiledQuery,
): { span: Span; parent: ReturnType<typeof context.active> } | undefined {
  const parent = context.active();
  if (settings.requireParentSpan && trace.getSpan(parent) === undefined) return undefined;
  const span = settings.getTracer().startSpan(settings.system, QUERY_SPAN_OPTIONS, parent);
  if (!span.isRecording()) return { span, parent };
  const { operation, tables } = describeQuery(query);
  const sql = query.sql;
  const attributes: Attributes = {
    [ATTR.DB_SYSTEM_NAME]: settings.system,
    [ATTR.DB_QUERY_TEXT]:
      sql.length > settings.maxQueryTextLength ? sql.slice(0, settings.maxQueryTextLength) : sql,
  };
  if (settings.namespace !== undefined) attributes[ATTR.DB_NAMESPACE] = settings.namespace;
  if (operation !== undefined) attributes[ATTR.DB_OPERATION_NAME] = operation;
  if (tables.length === 1) attributes[ATTR.DB_COLLECTION_NAME] = tables[0];
  let name = operation ?? settings.system;
  if (operation !== undefined && tables.length > 0) {
    name = `${operation} ${tables.join(' ')}`;
    attributes[ATTR.DB_QUERY_SUMMARY] = name;
  }
  span.updateName(name);
  span.setAttributes(attributes);
  return { span, parent };
}

function failQuery(span: Span, error: unknown): void {
  markFailed(span, error);
  // pg reports the SQLSTATE, better-sqlite3 an SQLITE_* code: both are the database's status code.
  const code = (error as { code?: unknown } | null)?.code;
  if (span.isRecording() && typeof code === 'string') span.setAttribute(ATTR.DB_RESPONSE_STATUS_CODE, code);
}

/** Wraps one connection; queries through it get spans, everything else reaches the real connection. */
class TracedConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly settings: Settings,
  ) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const started = startQuerySpan(this.settings, compiledQuery);
    if (started === undefined) return this.inner.executeQuery<R>(compiledQuery);
    const { span, parent } = started;
    // Unsampled: no context switch, the driver's own spans (pg) follow the unsampled parent anyway.
    if (!span.isRecording()) return this.inner.executeQuery<R>(compiledQuery);
    // An async function, because some drivers (better-sqlite3) throw synchronously.
    return context.with(trace.setSpan(parent, span), async () => {
      try {
        const result = await this.inner.executeQuery<R>(compiledQuery);
        if (Array.isArray(result.rows)) span.setAttribute(ATTR.DB_RESPONSE_RETURNED_ROWS, result.rows.length);
        return result;
      } catch (error) {
        failQuery(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize?: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    const started = startQuerySpan(this.settings, compiledQuery);
    if (started === undefined || !started.span.isRecording()) {
      yield* this.inner.streamQuery<R>(compiledQuery, chunkSize);
      return;
    }
    const { span, parent } = started;
    const iterator = context.with(trace.setSpan(parent, span), () =>
      this.inner.streamQuery<R>(compiledQuery, chunkSize),
    );
    let rows = 0;
    try {
      while (true) {
        const next = await context.with(trace.setSpan(parent, span), () => iterator.next());
        if (next.done === true) break;
        if (Array.isArray(next.value.rows)) rows += next.value.rows.length;
        yield next.value;
      }
      span.setAttribute(ATTR.DB_RESPONSE_RETURNED_ROWS, rows);
    } catch (error) {
      failQuery(span, error);
      throw error;
    } finally {
      // Reached on completion, on error, and when the consumer stops early (return()).
      await iterator.return?.();
      span.end();
    }
  }
}

/** The real connection behind a traced one, for the driver's own transaction and release logic. */
function innerOf(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof TracedConnection ? connection.inner : connection;
}

/** The real driver with its connections wrapped; transactions and release get the real connection. */
function tracedDriver(inner: Driver, settings: Settings): Driver {
  const driver: Driver = {
    init: () => inner.init(),
    acquireConnection: async () => new TracedConnection(await inner.acquireConnection(), settings),
    beginTransaction: (connection, transaction) => inner.beginTransaction(innerOf(connection), transaction),
    commitTransaction: (connection) => inner.commitTransaction(innerOf(connection)),
    rollbackTransaction: (connection) => inner.rollbackTransaction(innerOf(connection)),
    releaseConnection: (connection) => inner.releaseConnection(innerOf(connection)),
    destroy: () => inner.destroy(),
  };
  // Savepoints are optional: only offer them when the real driver has them.
  const { savepoint, rollbackToSavepoint, releaseSavepoint } = inner;
  if (savepoint !== undefined) {
    driver.savepoint = (connection, name, compile) =>
      savepoint.call(inner, innerOf(connection), name, compile);
  }
  if (rollbackToSavepoint !== undefined) {
    driver.rollbackToSavepoint = (connection, name, compile) =>
      rollbackToSavepoint.call(inner, innerOf(connection), name, compile);
  }
  if (releaseSavepoint !== undefined) {
    driver.releaseSavepoint = (connection, name, compile) =>
      releaseSavepoint.call(inner, innerOf(connection), name, compile);
  }
  return driver;
}

/**
 * Wraps a Kysely dialect so every query gets a CLIENT span: `db.system.name`, the parameterized
 * `db.query.text` (placeholders, never the parameter values), `db.operation.name`,
 * `db.collection.name`, `db.query.summary` as the span name (`SELECT workflows`), the row count, and
 * the exception with the database's error code on failure. Works for every dialect, SQLite included;
 * on PostgreSQL the `pg` instrumentation's span nests under it.
 *
 * Kysely's plugin interface sees neither the compiled SQL nor failed queries, so this wraps the
 * dialect's driver instead; use it where you would list a plugin.
 *
 * @example
 * ```ts
 * import { traceDialect } from '@plat/tracing/kysely';
 * const db = new Kysely<DB>({
 *   dialect: traceDialect(new SqliteDialect({ database: new Database('app.db') })),
 * });
 * ```
 */
export function traceDialect(dialect: Dialect, options: KyselyTracingOptions = {}): Dialect {
  const maxQueryTextLength = options.maxQueryTextLength ?? 4096;
  if (!Number.isInteger(maxQueryTextLength) || maxQueryTextLength <= 0) {
    throw new TracingError('INVALID_OPTIONS', 'maxQueryTextLength must be a positive integer');
  }
  if (options.system !== undefined && (typeof options.system !== 'string' || options.system === '')) {
    throw new TracingError('INVALID_OPTIONS', 'system must be a non-empty string');
  }
  const settings: Settings = {
    system: options.system ?? detectSystem(dialect.createAdapter()),
    namespace: options.namespace,
    requireParentSpan: options.requireParentSpan ?? false,
    maxQueryTextLength,
    getTracer: tracerFrom(options.tracerProvider),
  };
  return {
    createDriver: (): Driver => tracedDriver(dialect.createDriver(), settings),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    createIntrospector: (db: Parameters<Dialect['createIntrospector']>[0]): DatabaseIntrospector =>
      dialect.createIntrospector(db),
  };
}

/**
 * Analyzing one query: run EXPLAIN on its dialect, read the plan into findings, and derive index
 * advice — validated with hypothetical indexes (hypopg) on PostgreSQL when the extension is there,
 * heuristic with lower confidence otherwise.
 */
import type { Compilable, CompiledQuery, Kysely, OperationNode } from 'kysely';
import { DbPerfError } from './errors';
import { fingerprintOf } from './fingerprint';
import {
  type ColumnUsage,
  candidateColumnLists,
  conditionColumns,
  mergeUsage,
  queryTreeColumns,
  sortColumns,
} from './index-candidates';
import { internalQuery, type QueryRunner } from './internal-queries';
import {
  analyzePostgresPlan,
  analyzeSqlitePlan,
  type PgPlanNode,
  planUsesIndex,
  type SqlitePlanRow,
} from './plan-analysis';
import type {
  AnalyzeOptions,
  HypopgStatus,
  IndexRecommendation,
  PlanFinding,
  QueryAnalysis,
  RejectedIndex,
  SqlDialect,
} from './types';

/** A query to analyze: a kysely builder, a compiled query, or SQL text with its parameters. */
export type AnalyzableQuery =
  | Compilable<unknown>
  | CompiledQuery<unknown>
  | {
      readonly sql: string;
      readonly parameters?: readonly unknown[];
      readonly query?: OperationNode | undefined;
    };

interface PreparedQuery {
  sql: string;
  parameters: readonly unknown[];
  node: OperationNode | undefined;
}

/** Any Kysely instance, whatever its database type. */
// biome-ignore lint/suspicious/noExplicitAny: the schema type of the user's Kysely is irrelevant here
type AnyKysely = Kysely<any>;

const EXPLAINABLE = new Set(['select', 'insert', 'update', 'delete', 'with', 'values', 'table']);

/**
 * The dialect of a Kysely instance, from its adapter; undefined for dialects db-perf does not know.
 *
 * @example
 * ```ts
 * detectDialect(db); // 'postgres'
 * ```
 */
export function detectDialect(db: AnyKysely): SqlDialect | undefined {
  const name = db.getExecutor().adapter.constructor.name.toLowerCase();
  if (name.includes('postgres')) return 'postgres';
  if (name.includes('sqlite')) return 'sqlite';
  return undefined;
}

/**
 * Explains a query and reports plan findings and index advice. On PostgreSQL with the hypopg
 * extension, each candidate index is created hypothetically and kept only when the query costs at
 * least `minCost` and the index cuts that cost by at least `minImprovement` (Dexter's rule).
 *
 * @example
 * ```ts
 * const analysis = await analyzeQuery(db, db.selectFrom('orders').selectAll().where('customer_id', '=', 42));
 * for (const index of analysis.indexes) console.log(index.statement, index.costBefore, index.costAfter);
 * ```
 */
export async function analyzeQuery(
  db: AnyKysely,
  query: AnalyzableQuery,
  options: AnalyzeOptions & { dialect?: SqlDialect } = {},
): Promise<QueryAnalysis> {
  const dialect = options.dialect ?? detectDialect(db);
  if (dialect === undefined) {
    throw new DbPerfError('EXPLAIN_FAILED', 'Only PostgreSQL and SQLite queries can be analyzed');
  }
  const prepared = prepare(query);
  const fingerprint = fingerprintOf(prepared.sql);
  if (!EXPLAINABLE.has(fingerprint.verb)) {
    throw new DbPerfError(
      'EXPLAIN_FAILED',
      `A ${fingerprint.verb || 'blank'} statement cannot be explained`,
      {
        details: { fingerprintId: fingerprint.id },
      },
    );
  }
  try {
    const analysis =
      dialect === 'postgres'
        ? await analyzePostgres(db, prepared, fingerprint.verb, options)
        : await analyzeSqlite(db, prepared, options);
    return { dialect, fingerprint: fingerprint.text, fingerprintId: fingerprint.id, ...analysis };
  } catch (cause) {
    if (cause instanceof DbPerfError) throw cause;
    throw new DbPerfError('EXPLAIN_FAILED', `EXPLAIN failed: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
      details: { fingerprintId: fingerprint.id },
    });
  }
}

function prepare(query: AnalyzableQuery): PreparedQuery {
  if ('compile' in query && typeof query.compile === 'function') {
    const compiled = query.compile();
    return { sql: compiled.sql, parameters: compiled.parameters, node: compiled.query };
  }
  const plain = query as { sql: string; parameters?: readonly unknown[]; query?: OperationNode };
  return { sql: plain.sql, parameters: plain.parameters ?? [], node: plain.query };
}

type DialectAnalysis = Omit<QueryAnalysis, 'dialect' | 'fingerprint' | 'fingerprintId'>;

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

interface PgTable {
  schema: string;
  name: string;
  rows: number;
  columns: string[];
  /** Existing indexes as their column lists. */
  indexes: string[][];
}

async function analyzePostgres(
  db: AnyKysely,
  query: PreparedQuery,
  verb: string,
  options: AnalyzeOptions,
): Promise<DialectAnalysis> {
  const analyze = options.analyze === true && verb === 'select';
  const root = await explainPostgres(db, query, analyze);
  const tables = new Map<string, PgTable>();
  for (const relation of relationsOf(root)) {
    const table = await pgTable(db, relation);
    if (table !== undefined) tables.set(relation, table);
  }
  const tableRows = new Map([...tables].map(([relation, table]) => [relation, table.rows]));
  const result = analyzePostgresPlan(root, {
    ...(options.largeTableRows === undefined ? {} : { largeTableRows: options.largeTableRows }),
    tableRows,
  });
  const base: DialectAnalysis = {
    plan: root,
    analyzed: result.analyzed,
    totalCost: result.totalCost,
    findings: result.findings,
    indexes: [],
    rejected: [],
    hypopg: 'disabled',
  };
  if (options.adviseIndexes === false) return base;

  const usage = new Map<string, ColumnUsage>();
  for (const input of result.indexInputs) {
    const target = usage.get(input.relation) ?? { equality: [], range: [], sort: [] };
    for (const condition of input.conditions) mergeUsage(target, conditionColumns(condition, input.alias));
    mergeUsage(target, { equality: [], range: [], sort: sortColumns(input.sortKeys, input.alias) });
    usage.set(input.relation, target);
  }
  const rejected: RejectedIndex[] = [];
  const candidates: Candidate[] = [];
  for (const [relation, columns] of usage) {
    const table = tables.get(relation);
    if (table === undefined) continue;
    for (const list of candidateColumnLists(columns)) {
      if (!list.every((column) => table.columns.includes(column))) continue;
      const existing = table.indexes.find((index) => list.every((column, i) => index[i] === column));
      if (existing !== undefined) {
        rejected.push(
          reject(relation, list, `an index on (${existing.join(', ')}) already covers these columns`),
        );
        continue;
      }
      candidates.push({ table, columns: list });
    }
  }
  if (candidates.length === 0) return { ...base, rejected };

  const hypopgSchema = options.hypopg === false ? undefined : await extensionSchema(db, 'hypopg');
  const hypopg: HypopgStatus =
    options.hypopg === false ? 'disabled' : hypopgSchema === undefined ? 'not-installed' : 'used';
  if (hypopgSchema === undefined) {
    return {
      ...base,
      hypopg,
      ...heuristicAdvice(candidates, result.findings, result.analyzed, hypopg, rejected),
    };
  }
  const validated = await validateWithHypopg(db, query, candidates, hypopgSchema, options);
  return { ...base, hypopg, indexes: validated.indexes, rejected: [...rejected, ...validated.rejected] };
}

interface Candidate {
  table: PgTable;
  columns: string[];
}

async function explainPostgres(
  runner: QueryRunner,
  query: PreparedQuery,
  analyze: boolean,
): Promise<PgPlanNode> {
  const rows = await internalQuery<{ 'QUERY PLAN': unknown }>(
    runner,
    `EXPLAIN (FORMAT JSON${analyze ? ', ANALYZE, BUFFERS' : ''}) ${query.sql}`,
    query.parameters,
  );
  let document = rows[0]?.['QUERY PLAN'];
  if (typeof document === 'string') document = JSON.parse(document);
  const plan = (document as Array<{ Plan?: PgPlanNode }> | undefined)?.[0]?.Plan;
  if (plan === undefined) throw new DbPerfError('EXPLAIN_FAILED', 'EXPLAIN returned no plan');
  return plan;
}

function relationsOf(node: PgPlanNode, out = new Set<string>()): Set<string> {
  if (node['Relation Name'] !== undefined) out.add(node['Relation Name']);
  for (const child of node.Plans ?? []) relationsOf(child, out);
  return out;
}

async function pgTable(runner: QueryRunner, relation: string): Promise<PgTable | undefined> {
  const rows = await internalQuery<{
    schema: string;
    name: string;
    rows: number;
    columns: string[];
    indexes: string[];
  }>(
    runner,
    `select n.nspname as schema, c.relname as name, c.reltuples::float8 as rows,
       array(select a.attname::text from pg_attribute a
             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as columns,
       array(select array_to_string(array(
               select a.attname::text from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.ord), ',')
             from pg_index i where i.indrelid = c.oid) as indexes
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.oid = to_regclass(quote_ident($1))`,
    [relation],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  let count = Number(row.rows);
  if (!(count >= 0)) {
    // Never analyzed (reltuples = -1): ask the planner for its estimate of the whole table.
    const plan = await explainPostgres(
      runner,
      { sql: `select * from ${qi(row.schema)}.${qi(row.name)}`, parameters: [], node: undefined },
      false,
    );
    count = plan['Plan Rows'] ?? 0;
  }
  return {
    schema: row.schema,
    name: row.name,
    rows: count,
    columns: row.columns,
    indexes: row.indexes.map((list) => list.split(',').filter(Boolean)),
  };
}

/**
 * The schema an extension is installed in, or undefined when it is not installed in this database.
 *
 * @example
 * ```ts
 * await extensionSchema(db, 'hypopg'); // 'public'
 * ```
 */
export async function extensionSchema(runner: QueryRunner, extension: string): Promise<string | undefined> {
  const rows = await internalQuery<{ schema: string }>(
    runner,
    'select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = $1',
    [extension],
  );
  return rows[0]?.schema;
}

async function validateWithHypopg(
  db: AnyKysely,
  query: PreparedQuery,
  candidates: readonly Candidate[],
  hypopgSchema: string,
  options: AnalyzeOptions,
): Promise<{ indexes: IndexRecommendation[]; rejected: RejectedIndex[] }> {
  const minCost = options.minCost ?? 100;
  const minImprovement = options.minImprovement ?? 0.5;
  const hs = qi(hypopgSchema);
  // Hypothetical indexes live in one session: every step runs on the same connection.
  return db.connection().execute(async (connection) => {
    const measured: Array<Candidate & { costAfter: number; used: boolean }> = [];
    const failed: RejectedIndex[] = [];
    let costBefore: number;
    try {
      costBefore = (await explainPostgres(connection, query, false))['Total Cost'] ?? 0;
      for (const candidate of candidates) {
        const ddl = `CREATE INDEX ON ${qi(candidate.table.schema)}.${qi(candidate.table.name)} (${candidate.columns.map(qi).join(', ')})`;
        let created: Array<{ indexrelid: number | string }>;
        try {
          created = await internalQuery(connection, `select indexrelid from ${hs}.hypopg_create_index($1)`, [
            ddl,
          ]);
        } catch (cause) {
          // A column type without a B-tree operator class (json, say): this candidate cannot be an index.
          failed.push(
            reject(candidate.table.name, candidate.columns, `hypopg cannot create it: ${messageOf(cause)}`),
          );
          continue;
        }
        const id = created[0]?.indexrelid;
        const plan = await explainPostgres(connection, query, false);
        measured.push({
          ...candidate,
          costAfter: plan['Total Cost'] ?? costBefore,
          used: planUsesIndex(plan, `<${id}>`),
        });
        await internalQuery(connection, `select ${hs}.hypopg_drop_index($1)`, [id]);
      }
    } finally {
      await internalQuery(connection, `select ${hs}.hypopg_reset()`).catch(() => undefined);
    }
    const indexes: IndexRecommendation[] = [];
    const rejected: RejectedIndex[] = [...failed];
    const byTable = new Map<string, typeof measured>();
    for (const m of measured) byTable.set(m.table.name, [...(byTable.get(m.table.name) ?? []), m]);
    for (const [table, list] of byTable) {
      const usable = list.filter(
        (m) => m.used && costBefore >= minCost && m.costAfter <= costBefore * (1 - minImprovement),
      );
      const bestCost = Math.min(...usable.map((m) => m.costAfter));
      // Among indexes within 5 % of the best cost, the narrowest wins: cheaper to keep up to date.
      const best = usable
        .filter((m) => m.costAfter <= bestCost * 1.05 + 0.01)
        .sort((a, b) => a.columns.length - b.columns.length || a.costAfter - b.costAfter)[0];
      for (const m of list) {
        if (m === best) continue;
        const reason = !m.used
          ? 'the planner does not use it'
          : costBefore < minCost
            ? `the query costs ${costBefore.toFixed(1)}, below ${minCost}: not worth an index`
            : m.costAfter > costBefore * (1 - minImprovement)
              ? `it cuts the cost by only ${(100 * (1 - m.costAfter / costBefore)).toFixed(0)} %`
              : `(${best?.columns.join(', ')}) does as well with fewer columns or less cost`;
        rejected.push({ table, columns: m.columns, reason, costBefore, costAfter: m.costAfter });
      }
      if (best === undefined) continue;
      const improvement = 1 - best.costAfter / costBefore;
      indexes.push({
        table,
        schema: best.table.schema,
        columns: best.columns,
        statement: pgIndexStatement(best.table.schema, table, best.columns),
        confidence: 'high',
        validated: true,
        costBefore: round(costBefore),
        costAfter: round(best.costAfter),
        improvement: Math.round(improvement * 1000) / 1000,
        reason: `hypopg: planner cost ${costBefore.toFixed(1)} → ${best.costAfter.toFixed(1)} (${(improvement * 100).toFixed(1)} % less) with this index`,
      });
    }
    return { indexes, rejected };
  });
}

function heuristicAdvice(
  candidates: readonly Candidate[],
  findings: readonly PlanFinding[],
  analyzed: boolean,
  hypopg: HypopgStatus,
  rejected: RejectedIndex[],
): { indexes: IndexRecommendation[]; rejected: RejectedIndex[] } {
  const indexes: IndexRecommendation[] = [];
  const seen = new Set<string>();
  const why = hypopg === 'disabled' ? 'validation disabled' : 'hypopg is not installed';
  for (const candidate of candidates) {
    const table = candidate.table.name;
    const evidence = findings.find(
      (f) => f.relation === table && (f.kind === 'seq-scan-filter' || f.kind === 'nested-loop-seq-scan'),
    );
    if (evidence === undefined || seen.has(table)) {
      rejected.push(
        reject(
          table,
          candidate.columns,
          seen.has(table) ? 'a wider candidate was preferred' : 'no costly scan of this table in the plan',
        ),
      );
      continue;
    }
    seen.add(table);
    indexes.push({
      table,
      schema: candidate.table.schema,
      columns: candidate.columns,
      statement: pgIndexStatement(candidate.table.schema, table, candidate.columns),
      confidence: analyzed && evidence.severity === 'high' ? 'medium' : 'low',
      validated: false,
      costBefore: undefined,
      costAfter: undefined,
      improvement: undefined,
      reason: `heuristic (${why}): ${evidence.message}`,
    });
  }
  return { indexes, rejected };
}

function pgIndexStatement(schema: string, table: string, columns: readonly string[]): string {
  return `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${qi(indexName(table, columns))} ON ${qi(schema)}.${qi(table)} (${columns.map(qi).join(', ')})`;
}

// ---------------------------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------------------------

async function analyzeSqlite(
  db: AnyKysely,
  query: PreparedQuery,
  options: AnalyzeOptions,
): Promise<DialectAnalysis> {
  const rows = await internalQuery<SqlitePlanRow>(db, `EXPLAIN QUERY PLAN ${query.sql}`, query.parameters);
  const sizes = new Map<string, number>();
  for (const row of rows) {
    const table = /^SCAN (?:TABLE )?"?([\w$]+)"?/.exec(row.detail)?.[1];
    if (table === undefined || sizes.has(table)) continue;
    try {
      const [size] = await internalQuery<{ n: number | null }>(
        db,
        `select max(rowid) as n from ${qi(table)}`,
      );
      sizes.set(table, Number(size?.n ?? 0));
    } catch {
      // WITHOUT ROWID tables and views: size unknown.
    }
  }
  const { findings, scans } = analyzeSqlitePlan(rows, sizes, {
    ...(options.largeTableRows === undefined ? {} : { largeTableRows: options.largeTableRows }),
    hasFilter: /\bwhere\b/i.test(query.sql),
  });
  const base: DialectAnalysis = {
    plan: rows,
    analyzed: false,
    totalCost: undefined,
    findings,
    indexes: [],
    rejected: [],
    hypopg: 'not-postgres',
  };
  if (options.adviseIndexes === false || query.node === undefined) return base;
  const usage = queryTreeColumns(query.node);
  const indexes: IndexRecommendation[] = [];
  const rejected: RejectedIndex[] = [];
  for (const scan of scans) {
    const columns = candidateColumnLists(usage.get(scan.table) ?? { equality: [], range: [], sort: [] })[0];
    const finding = findings.find((f) => f.relation === scan.table && f.kind === 'full-scan');
    if (columns === undefined || finding === undefined) continue;
    const info = await internalQuery<{ name: string }>(db, `select name from pragma_table_info(?)`, [
      scan.table,
    ]);
    if (!columns.every((column) => info.some((c) => c.name === column))) continue;
    const existing = await sqliteIndexes(db, scan.table);
    const covering = existing.find((index) => columns.every((column, i) => index[i] === column));
    if (covering !== undefined) {
      rejected.push(
        reject(scan.table, columns, `an index on (${covering.join(', ')}) exists but is not used`),
      );
      continue;
    }
    indexes.push({
      table: scan.table,
      schema: undefined,
      columns,
      statement: `CREATE INDEX IF NOT EXISTS ${qi(indexName(scan.table, columns))} ON ${qi(scan.table)} (${columns.map(qi).join(', ')})`,
      confidence: finding.severity === 'high' ? 'medium' : 'low',
      validated: false,
      costBefore: undefined,
      costAfter: undefined,
      improvement: undefined,
      reason: `heuristic (SQLite has no hypothetical indexes): ${finding.message}`,
    });
  }
  return { ...base, indexes, rejected };
}

async function sqliteIndexes(db: AnyKysely, table: string): Promise<string[][]> {
  const list = await internalQuery<{ name: string }>(db, 'select name from pragma_index_list(?)', [table]);
  const out: string[][] = [];
  for (const index of list) {
    const columns = await internalQuery<{ name: string }>(
      db,
      'select name from pragma_index_info(?) order by seqno',
      [index.name],
    );
    out.push(columns.map((c) => c.name));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function reject(table: string, columns: readonly string[], reason: string): RejectedIndex {
  return { table, columns, reason, costBefore: undefined, costAfter: undefined };
}

/** Quotes an identifier for PostgreSQL and SQLite. */
function qi(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function indexName(table: string, columns: readonly string[]): string {
  const name = `${table}_${columns.join('_')}_idx`;
  if (name.length <= 63) return name;
  const hash = fingerprintOf(name).id.slice(0, 8);
  return `${name.slice(0, 50)}_${hash}_idx`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

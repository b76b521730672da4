/**
 * Reading query plans: PostgreSQL's `EXPLAIN (FORMAT JSON)` tree and SQLite's `EXPLAIN QUERY PLAN`
 * rows, turned into findings with a severity, plus the columns an index could serve.
 */
import type { PlanFinding, Severity } from './types';

/** A node of PostgreSQL's JSON plan (only the fields we read are typed). */
export interface PgPlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  Alias?: string;
  'Parent Relationship'?: string;
  'Total Cost'?: number;
  'Plan Rows'?: number;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Filter?: string;
  'Join Filter'?: string;
  'Hash Cond'?: string;
  'Merge Cond'?: string;
  'Index Cond'?: string;
  'Index Name'?: string;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  'Sort Key'?: string[];
  'Sort Method'?: string;
  'Sort Space Used'?: number;
  'Sort Space Type'?: string;
  Plans?: PgPlanNode[];
  [field: string]: unknown;
}

/** What an index on one relation could serve, gathered from the plan. */
export interface IndexInput {
  readonly relation: string;
  readonly schema: string | undefined;
  readonly alias: string | undefined;
  /** Filter or join expressions applied while scanning the whole relation. */
  readonly conditions: string[];
  /** Sort keys of a sort fed by this relation alone. */
  readonly sortKeys: string[];
}

export interface PgPlanAnalysis {
  readonly findings: PlanFinding[];
  readonly totalCost: number | undefined;
  readonly analyzed: boolean;
  /** Relations scanned sequentially, with what an index could serve. */
  readonly indexInputs: IndexInput[];
}

export interface PlanAnalysisOptions {
  /** Tables with at least this many rows count as large. @default 10000 */
  largeTableRows?: number;
  /** Estimated row counts of relations, for plans without ANALYZE. */
  tableRows?: ReadonlyMap<string, number>;
}

const SEQ_SCANS = new Set(['Seq Scan', 'Parallel Seq Scan']);

/**
 * Walks a PostgreSQL JSON plan and reports sequential scans of large tables with selective filters,
 * sorts that spill to disk, nested loops over sequential scans and row estimates off by an order of
 * magnitude or more.
 *
 * @example
 * ```ts
 * const [{ 'QUERY PLAN': [explained] }] = (await pool.query('explain (analyze, format json) ' + sql)).rows;
 * analyzePostgresPlan(explained.Plan).findings;
 * ```
 */
export function analyzePostgresPlan(root: PgPlanNode, options: PlanAnalysisOptions = {}): PgPlanAnalysis {
  const largeTableRows = options.largeTableRows ?? 10_000;
  const analyzed = root['Actual Rows'] !== undefined;
  const findings: PlanFinding[] = [];
  const inputs = new Map<string, IndexInput>();
  const inputFor = (node: PgPlanNode): IndexInput => {
    const relation = node['Relation Name']!;
    const key = `${node.Schema ?? ''}.${relation}.${node.Alias ?? ''}`;
    let input = inputs.get(key);
    if (input === undefined) {
      input = { relation, schema: node.Schema, alias: node.Alias, conditions: [], sortKeys: [] };
      inputs.set(key, input);
    }
    return input;
  };

  const visit = (node: PgPlanNode): void => {
    const type = node['Node Type'];
    if (SEQ_SCANS.has(type) && node['Relation Name'] !== undefined) {
      seqScanFinding(node, analyzed, largeTableRows, options.tableRows, findings);
      if (node.Filter !== undefined) inputFor(node).conditions.push(node.Filter);
    }
    if ((type === 'Sort' || type === 'Incremental Sort') && node['Sort Key'] !== undefined) {
      sortFinding(node, findings);
      const scan = singleRelationScan(node);
      if (scan !== undefined) inputFor(scan).sortKeys.push(...node['Sort Key']);
    }
    if (type === 'Nested Loop') nestedLoopFinding(node, analyzed, largeTableRows, findings, inputFor);
    if (analyzed) estimateFinding(node, findings);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(root);
  findings.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  return { findings, totalCost: root['Total Cost'], analyzed, indexInputs: [...inputs.values()] };
}

const SEVERITY_RANK: Record<Severity, number> = { high: 3, medium: 2, low: 1 };

function seqScanFinding(
  node: PgPlanNode,
  analyzed: boolean,
  largeTableRows: number,
  tableRows: ReadonlyMap<string, number> | undefined,
  findings: PlanFinding[],
): void {
  if (node.Filter === undefined) return;
  const relation = node['Relation Name']!;
  const loops = node['Actual Loops'] ?? 1;
  let returned: number;
  let scanned: number;
  if (analyzed) {
    returned = (node['Actual Rows'] ?? 0) * loops;
    const removed = (node['Rows Removed by Filter'] ?? 0) * loops;
    scanned = returned + removed;
  } else {
    const estimate = tableRows?.get(relation);
    if (estimate === undefined) return;
    returned = node['Plan Rows'] ?? 0;
    scanned = estimate;
  }
  const perLoop = scanned / loops;
  if (perLoop < largeTableRows || scanned === 0) return;
  const selectivity = returned / scanned;
  if (selectivity > 0.1) return;
  const removed = scanned - returned;
  const severity: Severity =
    removed >= 1_000_000 || (perLoop >= 100_000 && selectivity < 0.01) ? 'high' : 'medium';
  findings.push({
    kind: 'seq-scan-filter',
    severity,
    node: node['Node Type'],
    relation,
    message:
      `${node['Node Type']} on ${relation} reads ${fmt(scanned)} rows to return ${fmt(returned)} ` +
      `(${(selectivity * 100).toFixed(2)} % pass the filter ${node.Filter}` +
      `${loops > 1 ? `, over ${loops} loops` : ''})${analyzed ? '' : ' [estimated]'}`,
    suggestion: `An index on the filtered columns of ${relation} lets PostgreSQL read only the matching rows.`,
    metrics: { scannedRows: scanned, returnedRows: returned, removedRows: removed, loops, selectivity },
  });
}

function sortFinding(node: PgPlanNode, findings: PlanFinding[]): void {
  const spilled = node['Sort Space Type'] === 'Disk' || /external/i.test(node['Sort Method'] ?? '');
  if (!spilled) return;
  const spaceKb = node['Sort Space Used'] ?? 0;
  findings.push({
    kind: 'sort-spill',
    severity: spaceKb >= 100 * 1024 ? 'high' : 'medium',
    node: node['Node Type'],
    message: `${node['Node Type']} on ${node['Sort Key']!.join(', ')} spilled ${fmt(spaceKb)} kB to disk (${node['Sort Method'] ?? 'external'})`,
    suggestion:
      'An index matching the sort keys can return rows already ordered; otherwise raise work_mem for this query or sort fewer rows (filter or LIMIT first).',
    metrics: { spaceKb, rows: node['Actual Rows'] ?? node['Plan Rows'] ?? 0 },
  });
}

function nestedLoopFinding(
  node: PgPlanNode,
  analyzed: boolean,
  largeTableRows: number,
  findings: PlanFinding[],
  inputFor: (node: PgPlanNode) => IndexInput,
): void {
  const children = node.Plans ?? [];
  const outer = children.find((child) => child['Parent Relationship'] === 'Outer') ?? children[0];
  let inner = children.find((child) => child['Parent Relationship'] === 'Inner') ?? children[1];
  if (inner === undefined) return;
  if (inner['Node Type'] === 'Materialize' && inner.Plans?.[0] !== undefined) inner = inner.Plans[0];
  if (!SEQ_SCANS.has(inner['Node Type']) || inner['Relation Name'] === undefined) return;
  const loops = analyzed ? (inner['Actual Loops'] ?? 1) : (outer?.['Plan Rows'] ?? 1);
  if (loops <= 1) return;
  const perLoop = analyzed
    ? (inner['Actual Rows'] ?? 0) + (inner['Rows Removed by Filter'] ?? 0)
    : (inner['Plan Rows'] ?? 0);
  const total = perLoop * loops;
  if (total < largeTableRows) return;
  const relation = inner['Relation Name'];
  const condition = node['Join Filter'] ?? inner.Filter;
  if (condition !== undefined && node['Join Filter'] !== undefined)
    inputFor(inner).conditions.push(condition);
  findings.push({
    kind: 'nested-loop-seq-scan',
    severity: total >= 1_000_000 ? 'high' : 'medium',
    node: 'Nested Loop',
    relation,
    message:
      `Nested Loop scans ${relation} sequentially ${fmt(loops)} times (${fmt(total)} rows read in all)` +
      `${condition === undefined ? '' : ` to match ${condition}`}${analyzed ? '' : ' [estimated]'}`,
    suggestion: `An index on ${relation}'s join columns turns each inner scan into an index lookup.`,
    metrics: { loops, rowsPerLoop: perLoop, totalRows: total },
  });
}

function estimateFinding(node: PgPlanNode, findings: PlanFinding[]): void {
  const actual = node['Actual Rows'];
  const planned = node['Plan Rows'];
  if (actual === undefined || planned === undefined) return;
  if ((node['Actual Loops'] ?? 1) === 0) return;
  const high = Math.max(actual, planned);
  const low = Math.max(1, Math.min(actual, planned));
  const ratio = high / low;
  if (ratio < 10 || high < 100) return;
  const what =
    node['Relation Name'] === undefined
      ? node['Node Type']
      : `${node['Node Type']} on ${node['Relation Name']}`;
  findings.push({
    kind: 'estimate-error',
    severity: ratio >= 1000 ? 'high' : ratio >= 100 ? 'medium' : 'low',
    node: node['Node Type'],
    ...(node['Relation Name'] === undefined ? {} : { relation: node['Relation Name'] }),
    message: `${what}: planner expected ${fmt(planned)} rows, got ${fmt(actual)} (${ratio.toFixed(0)}x ${actual > planned ? 'more' : 'fewer'})`,
    suggestion:
      'Run ANALYZE on the table; for correlated columns add extended statistics (CREATE STATISTICS), or raise the column statistics target.',
    metrics: { plannedRows: planned, actualRows: actual, ratio },
  });
}

/** The scan under a sort when the sort is fed by one relation (through filters and limits). */
function singleRelationScan(node: PgPlanNode): PgPlanNode | undefined {
  let current: PgPlanNode | undefined = node.Plans?.length === 1 ? node.Plans[0] : undefined;
  while (current !== undefined) {
    if (current['Relation Name'] !== undefined)
      return SEQ_SCANS.has(current['Node Type']) ? current : undefined;
    current = current.Plans?.length === 1 ? current.Plans[0] : undefined;
  }
  return undefined;
}

/** True when the plan uses an index whose name contains `name`. */
export function planUsesIndex(node: PgPlanNode, name: string): boolean {
  if (typeof node['Index Name'] === 'string' && node['Index Name'].includes(name)) return true;
  return (node.Plans ?? []).some((child) => planUsesIndex(child, name));
}

/** One row of SQLite's `EXPLAIN QUERY PLAN`. */
export interface SqlitePlanRow {
  id: number;
  parent: number;
  notused?: number;
  detail: string;
}

/** A table SQLite scans in full, from its plan. */
export interface SqliteScan {
  readonly table: string;
  readonly detail: string;
}

/**
 * Reads SQLite's `EXPLAIN QUERY PLAN` rows: full scans of large tables (`SCAN t` without an index)
 * and sorts through a temporary B-tree.
 *
 * @example
 * ```ts
 * analyzeSqlitePlan(db.prepare('explain query plan ' + sql).all(...params), new Map([['orders', 100000]]));
 * ```
 */
export function analyzeSqlitePlan(
  rows: readonly SqlitePlanRow[],
  tableRows: ReadonlyMap<string, number>,
  options: { largeTableRows?: number; hasFilter?: boolean } = {},
): { findings: PlanFinding[]; scans: SqliteScan[] } {
  const largeTableRows = options.largeTableRows ?? 10_000;
  const findings: PlanFinding[] = [];
  const scans: SqliteScan[] = [];
  for (const row of rows) {
    const scan = /^SCAN (?:TABLE )?("?)([\w$]+)\1(?: AS \w+)?(.*)$/.exec(row.detail);
    if (scan !== null && !/USING (?:COVERING )?INDEX|USING INTEGER PRIMARY KEY/.test(scan[3] ?? '')) {
      const table = scan[2]!;
      scans.push({ table, detail: row.detail });
      const size = tableRows.get(table);
      if (size !== undefined && size < largeTableRows) continue;
      findings.push({
        kind: 'full-scan',
        severity: size !== undefined && size >= 100_000 && options.hasFilter !== false ? 'high' : 'medium',
        node: row.detail,
        relation: table,
        message: `SQLite scans all of ${table}${size === undefined ? '' : ` (about ${fmt(size)} rows)`}`,
        suggestion: `An index on the filtered columns of ${table} lets SQLite search instead of scanning.`,
        metrics: size === undefined ? {} : { tableRows: size },
      });
    }
    if (/USE TEMP B-TREE FOR (?:ORDER BY|GROUP BY|DISTINCT)/.test(row.detail)) {
      findings.push({
        kind: 'temp-sort',
        severity: 'low',
        node: row.detail,
        message: `SQLite sorts through a temporary B-tree (${row.detail})`,
        suggestion: 'An index whose columns match the ORDER BY (after the equality filters) avoids the sort.',
        metrics: {},
      });
    }
  }
  findings.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  return { findings, scans };
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

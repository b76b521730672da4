/**
 * Candidate indexes: which columns of a relation a query filters by equality, by range, joins on
 * and sorts by, read from PostgreSQL plan conditions or from the kysely query tree. Equality columns
 * come first and at most one range column follows, the order a B-tree can use.
 */
import type { OperationNode } from 'kysely';

/** Columns of one relation a query constrains. */
export interface ColumnUsage {
  equality: string[];
  range: string[];
  sort: string[];
}

/** A candidate index on one relation. */
export interface IndexCandidate {
  readonly table: string;
  readonly columns: readonly string[];
}

const COLUMN = String.raw`(?:"?([A-Za-z_][\w$]*)"?\.)?"?([A-Za-z_][\w$]*)"?`;
const OPERAND = new RegExp(String.raw`^\(*${COLUMN}\)*(?:::[\w ]+(?:\[\])?)*$`);
const COMPARISON = /^(.+?)\s+(=|<>|!=|<=|>=|<|>|~~\*?|= ANY|IS NOT NULL|IS NULL)\s*(.*)$/s;

/**
 * Columns of `relation` (known in the plan as `alias`) that a plan condition such as
 * `((customer_id = 42) AND (created_at > '2024-01-01'::date))` constrains. Disjunctions are left
 * out: an index rarely serves an OR on different columns.
 *
 * @example
 * ```ts
 * conditionColumns('((status)::text = \'open\'::text)', 'orders'); // { equality: ['status'], range: [], sort: [] }
 * ```
 */
export function conditionColumns(condition: string, alias: string | undefined): ColumnUsage {
  const usage: ColumnUsage = { equality: [], range: [], sort: [] };
  for (const conjunct of splitTopLevel(stripParens(condition), ' AND ')) {
    const term = stripParens(conjunct);
    if (splitTopLevel(term, ' OR ').length > 1) continue;
    const match = COMPARISON.exec(term);
    if (match === null) continue;
    const [, left, operator, right] = match as unknown as [string, string, string, string];
    let column = columnOf(left, alias);
    if (column === undefined && operator !== 'IS NULL' && operator !== 'IS NOT NULL') {
      column = columnOf(right.replace(/^ANY\s*/i, ''), alias);
    }
    if (column === undefined) continue;
    if (operator === '=' || operator === '= ANY' || operator === 'IS NULL')
      pushUnique(usage.equality, column);
    else if (operator === '<' || operator === '<=' || operator === '>' || operator === '>=')
      pushUnique(usage.range, column);
    else if (operator.startsWith('~~') && /^'[^%_]/.test(right.trim())) pushUnique(usage.range, column);
  }
  return usage;
}

/** Sort key columns of `alias` from a plan's `Sort Key` (`o.created_at DESC` → `created_at`). */
export function sortColumns(keys: readonly string[], alias: string | undefined): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const column = columnOf(key.replace(/\s+(?:ASC|DESC|NULLS (?:FIRST|LAST)).*$/i, ''), alias);
    if (column === undefined) return out; // an expression: columns after it cannot use the index order
    pushUnique(out, column);
  }
  return out;
}

/**
 * Candidate column lists for one relation, most promising first: all equality columns followed by
 * one range column, the same followed by the sort columns, then each column on its own.
 *
 * @example
 * ```ts
 * candidateColumnLists({ equality: ['customer_id'], range: ['created_at'], sort: [] });
 * // [['customer_id', 'created_at'], ['customer_id'], ['created_at']]
 * ```
 */
export function candidateColumnLists(usage: ColumnUsage, max = 6): string[][] {
  const lists: string[][] = [];
  const add = (columns: string[]): void => {
    const unique = columns.filter((column, i) => columns.indexOf(column) === i);
    if (unique.length === 0 || unique.length > 4) return;
    if (lists.some((list) => list.join() === unique.join())) return;
    lists.push(unique);
  };
  const firstRange = usage.range[0];
  add(firstRange === undefined ? usage.equality : [...usage.equality, firstRange]);
  if (usage.sort.length > 0) add([...usage.equality, ...usage.sort]);
  for (const column of usage.equality) add([column]);
  for (const column of usage.range) add([column]);
  for (const column of usage.sort.slice(0, 1)) add([column]);
  return lists.slice(0, max);
}

/** Merges the usage of several conditions on one relation. */
export function mergeUsage(target: ColumnUsage, source: ColumnUsage): ColumnUsage {
  for (const column of source.equality) pushUnique(target.equality, column);
  for (const column of source.range) if (!target.equality.includes(column)) pushUnique(target.range, column);
  for (const column of source.sort) pushUnique(target.sort, column);
  return target;
}

/**
 * Columns per table that a kysely query tree filters and sorts by (used where the plan does not
 * name them, as on SQLite). Only `where` and `order by` of the top-level query are read.
 *
 * @example
 * ```ts
 * queryTreeColumns(db.selectFrom('orders').selectAll().where('customer_id', '=', 7).compile().query);
 * // Map { 'orders' => { equality: ['customer_id'], range: [], sort: [] } }
 * ```
 */
export function queryTreeColumns(root: OperationNode): Map<string, ColumnUsage> {
  const out = new Map<string, ColumnUsage>();
  const node = root as unknown as TreeNode;
  const aliases = new Map<string, string>();
  const tables: string[] = [];
  const from = (node.from as TreeNode | undefined)?.froms as TreeNode[] | undefined;
  for (const item of from ?? [node.table as TreeNode | undefined].filter(isNode)) {
    const table = tableName(item);
    if (table === undefined) continue;
    tables.push(table.name);
    if (table.alias !== undefined) aliases.set(table.alias, table.name);
  }
  for (const join of (node.joins as TreeNode[] | undefined) ?? []) {
    const table = tableName(join.table as TreeNode);
    if (table === undefined) continue;
    tables.push(table.name);
    if (table.alias !== undefined) aliases.set(table.alias, table.name);
  }
  const usageOf = (reference: TreeNode): [string, ColumnUsage] | undefined => {
    if (reference.kind !== 'ReferenceNode') return undefined;
    const column = identifier((reference.column as TreeNode | undefined)?.column as TreeNode | undefined);
    if (column === undefined) return undefined;
    const qualifier = tableName(reference.table as TreeNode | undefined)?.name;
    const table = qualifier === undefined ? tables[0] : (aliases.get(qualifier) ?? qualifier);
    if (table === undefined) return undefined;
    let usage = out.get(table);
    if (usage === undefined) {
      usage = { equality: [], range: [], sort: [] };
      out.set(table, usage);
    }
    return [column, usage];
  };
  const where = (node.where as TreeNode | undefined)?.where as TreeNode | undefined;
  for (const term of conjuncts(where)) {
    if (term.kind !== 'BinaryOperationNode') continue;
    const operator = (term.operator as TreeNode | undefined)?.operator;
    const found = usageOf(term.leftOperand as TreeNode);
    if (found === undefined || typeof operator !== 'string') continue;
    const [column, usage] = found;
    const op = operator.toLowerCase();
    if (op === '=' || op === 'in' || op === 'is') pushUnique(usage.equality, column);
    else if (['<', '<=', '>', '>=', 'between'].includes(op)) pushUnique(usage.range, column);
  }
  for (const item of ((node.orderBy as TreeNode | undefined)?.items as TreeNode[] | undefined) ?? []) {
    const found = usageOf(item.orderBy as TreeNode);
    if (found !== undefined) pushUnique(found[1].sort, found[0]);
  }
  return out;
}

type TreeNode = { kind: string; [field: string]: unknown };

function isNode(value: unknown): value is TreeNode {
  return typeof value === 'object' && value !== null && typeof (value as TreeNode).kind === 'string';
}

function conjuncts(node: TreeNode | undefined): TreeNode[] {
  if (node === undefined) return [];
  if (node.kind === 'AndNode')
    return [...conjuncts(node.left as TreeNode), ...conjuncts(node.right as TreeNode)];
  if (node.kind === 'ParensNode') return conjuncts(node.node as TreeNode);
  return [node];
}

function identifier(node: TreeNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (node.kind === 'IdentifierNode' && typeof node.name === 'string') return node.name;
  return undefined;
}

function tableName(node: TreeNode | undefined): { name: string; alias?: string } | undefined {
  if (node === undefined) return undefined;
  if (node.kind === 'AliasNode') {
    const inner = tableName(node.node as TreeNode);
    const alias = identifier(node.alias as TreeNode);
    if (inner === undefined) return undefined;
    return alias === undefined ? inner : { name: inner.name, alias };
  }
  if (node.kind === 'TableNode') {
    const schemable = node.table as TreeNode;
    const name = identifier(schemable.identifier as TreeNode);
    return name === undefined ? undefined : { name };
  }
  return undefined;
}

function columnOf(text: string, alias: string | undefined): string | undefined {
  const match = OPERAND.exec(text.trim());
  if (match === null) return undefined;
  const qualifier = match[1];
  const column = match[2]!;
  if (qualifier !== undefined && alias !== undefined && qualifier !== alias) return undefined;
  if (/^(?:true|false|null)$/i.test(column)) return undefined;
  return column;
}

/** Removes parentheses wrapping the whole expression. */
function stripParens(text: string): string {
  let s = text.trim();
  while (s.startsWith('(') && s.endsWith(')') && closingOf(s, 0) === s.length - 1) s = s.slice(1, -1).trim();
  return s;
}

function closingOf(s: string, open: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "'") quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

function splitTopLevel(s: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'") quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && s.startsWith(separator, i)) {
      parts.push(s.slice(start, i));
      start = i + separator.length;
      i += separator.length - 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

function pushUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

/**
 * Queries db-perf runs itself (EXPLAIN, catalog reads, hypopg calls). They are marked so that the
 * instrumentation leaves them out of statistics, slow-query events and N+1 counts.
 */
import { CompiledQuery, type QueryResult } from 'kysely';

const INTERNAL = new WeakSet<object>();

/** True for a compiled query db-perf issued itself. */
export function isInternalQuery(query: object): boolean {
  return INTERNAL.has(query);
}

/** Something that can run a compiled query: a Kysely instance or one of its connections. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/** Runs `sql` with `parameters` as an internal query and returns its rows. */
export async function internalQuery<Row = Record<string, unknown>>(
  runner: QueryRunner,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<Row[]> {
  const compiled = CompiledQuery.raw(sql, [...parameters]);
  INTERNAL.add(compiled);
  const result = await runner.executeQuery<Row>(compiled as CompiledQuery<Row>);
  return [...result.rows];
}

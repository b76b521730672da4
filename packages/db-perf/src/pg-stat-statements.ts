/**
 * Reading `pg_stat_statements`, the server-wide view of statement statistics, where it exists. The
 * extension must be created in the database and loaded through `shared_preload_libraries`; when
 * either is missing the reader says which, instead of failing.
 */
import type { Kysely } from 'kysely';
import { normalizeSql } from './fingerprint';
import { internalQuery } from './internal-queries';
import { detectDialect, extensionSchema } from './query-analysis';
import type { PgStatStatement, PgStatStatementsOptions, PgStatStatementsResult } from './types';

const DML = /^\s*\(?\s*(?:select|insert|update|delete|with|values|table|merge)\b/i;

const ORDER_COLUMNS = {
  totalMs: 'total_exec_time',
  meanMs: 'mean_exec_time',
  maxMs: 'max_exec_time',
  calls: 'calls',
} as const;

/**
 * Reads the top statements of `pg_stat_statements` for the current database. Each statement text is
 * normalized again (PostgreSQL already replaces constants by `$n`; this also folds any literal left
 * in utility statements), and utility statements are left out unless asked for.
 *
 * @example
 * ```ts
 * const stats = await readPgStatStatements(db, { limit: 10 });
 * if (stats.available) console.table(stats.statements);
 * else console.log(stats.reason, stats.message);
 * ```
 */
export async function readPgStatStatements(
  // biome-ignore lint/suspicious/noExplicitAny: the schema type of the user's Kysely is irrelevant here
  db: Kysely<any>,
  options: PgStatStatementsOptions = {},
): Promise<PgStatStatementsResult> {
  if (detectDialect(db) !== 'postgres') {
    return {
      available: false,
      reason: 'not-postgres',
      message: 'pg_stat_statements exists on PostgreSQL only',
    };
  }
  let schema: string | undefined;
  try {
    schema = await extensionSchema(db, 'pg_stat_statements');
  } catch (error) {
    return { available: false, reason: 'error', message: messageOf(error) };
  }
  if (schema === undefined) {
    return {
      available: false,
      reason: 'not-installed',
      message:
        'the pg_stat_statements extension is not created in this database (CREATE EXTENSION pg_stat_statements)',
    };
  }
  const limit = Math.max(1, Math.min(1000, Math.trunc(options.limit ?? 50)));
  const [version] = await internalQuery<{ v: string }>(
    db,
    "select current_setting('server_version_num') as v",
  );
  const modern = Number(version?.v ?? 0) >= 130000;
  const time = (column: string) => (modern ? column : column.replace('_exec_time', '_time'));
  const order = time(ORDER_COLUMNS[options.orderBy ?? 'totalMs']);
  try {
    const rows = await internalQuery<Record<string, unknown>>(
      db,
      `select queryid::text as query_id, query, calls::float8 as calls,
         ${time('total_exec_time')}::float8 as total_ms, ${time('mean_exec_time')}::float8 as mean_ms,
         ${time('max_exec_time')}::float8 as max_ms, rows::float8 as rows,
         shared_blks_hit::float8 as hit, shared_blks_read::float8 as read
       from "${schema.replaceAll('"', '""')}".pg_stat_statements
       where dbid = (select oid from pg_database where datname = current_database())
       order by ${order} desc limit $1`,
      [options.includeUtility === true ? limit : limit * 4],
    );
    const statements: PgStatStatement[] = [];
    for (const row of rows) {
      const text = String(row.query ?? '');
      if (options.includeUtility !== true && !DML.test(text)) continue;
      statements.push({
        queryId: String(row.query_id),
        query: normalizeSql(text),
        calls: Number(row.calls),
        totalMs: Number(row.total_ms),
        meanMs: Number(row.mean_ms),
        maxMs: Number(row.max_ms),
        rows: Number(row.rows),
        sharedBlocksHit: Number(row.hit),
        sharedBlocksRead: Number(row.read),
      });
      if (statements.length >= limit) break;
    }
    return { available: true, statements };
  } catch (error) {
    const code = (error as { code?: string })?.code;
    // 55000: "pg_stat_statements must be loaded via shared_preload_libraries"
    if (code === '55000' || /shared_preload_libraries/.test(messageOf(error))) {
      return {
        available: false,
        reason: 'not-loaded',
        message:
          'pg_stat_statements is created but not loaded: add it to shared_preload_libraries and restart',
      };
    }
    if (code === '42501') return { available: false, reason: 'no-permission', message: messageOf(error) };
    return { available: false, reason: 'error', message: messageOf(error) };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

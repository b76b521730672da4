/**
 * Batch loading on dataloader: many `load(key)` calls made in the same tick become one
 * `where key in (...)` query. Instances live in the request context, so caching never crosses
 * requests; outside a request, loads still batch but nothing is cached.
 */
import { createContextSlot } from '@plat/core';
import DataLoader from 'dataloader';
import type { Kysely, Selectable } from 'kysely';
import { withCallSiteLabel } from './call-site';
import { DbPerfError } from './errors';
import type { LoaderOptions, RelationLoaderOptions } from './types';

/** Loads single rows by a unique key. */
export interface Loader<Key, Row> {
  /** The row with this key, or undefined when there is none. */
  load(key: Key): Promise<Row | undefined>;
  /** Rows in the order of `keys` (undefined where missing). */
  loadMany(keys: readonly Key[]): Promise<Array<Row | undefined>>;
  /** Forgets a cached row of the current request (after updating it, say). */
  clear(key: Key): void;
}

/** Loads the rows that belong to a parent key (one-to-many). */
export interface RelationLoader<Key, Row> {
  /** Every row whose foreign key is `key` (an empty list when there is none). */
  load(key: Key): Promise<Row[]>;
  /** Lists in the order of `keys`. */
  loadMany(keys: readonly Key[]): Promise<Row[][]>;
  clear(key: Key): void;
}

type AnyRow = Record<string, unknown>;
/** The user's Kysely seen without its schema type, for queries built from runtime names. */
type LooseKysely = Kysely<Record<string, AnyRow>>;

const LOADERS = createContextSlot<Map<object, DataLoader<unknown, unknown, string>>>('@plat/db-perf.loaders');

/** One definition, one DataLoader per request (or an uncached shared one outside requests). */
function perRequest<K, V>(definition: object, create: (cache: boolean) => DataLoader<K, V, string>) {
  let shared: DataLoader<K, V, string> | undefined;
  return (): DataLoader<K, V, string> => {
    const map = LOADERS.getOrCreate(() => new Map());
    if (map === undefined) {
      shared ??= create(false);
      return shared;
    }
    let loader = map.get(definition) as DataLoader<K, V, string> | undefined;
    if (loader === undefined) {
      loader = create(true);
      map.set(definition, loader as DataLoader<unknown, unknown, string>);
    }
    return loader;
  };
}

/**
 * The loader a definition hands out: each call reaches this request's DataLoader for the batch
 * function, and `loadMany` rethrows the first failure instead of returning it among the values.
 */
function perRequestLoader<K, V>(
  batch: (keys: readonly K[]) => Promise<V[]>,
  maxBatchSize: number,
): { load(key: K): Promise<V>; loadMany(keys: readonly K[]): Promise<V[]>; clear(key: K): void } {
  const get = perRequest<K, V>(
    {},
    (cache) => new DataLoader(batch, { maxBatchSize, cache, cacheKeyFn: keyOf }),
  );
  return {
    load: (k) => get().load(k),
    loadMany: async (keys) => {
      const results = await get().loadMany(keys);
      return results.map((result) => {
        if (result instanceof Error) throw result;
        return result;
      });
    },
    clear: (k) => {
      get().clear(k);
    },
  };
}

/** Keys compare by their text, so an id given as a number matches a bigint column read as a string. */
function keyOf(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

function checkBatchSize(size: number | undefined): number {
  const value = size ?? 500;
  if (!Number.isInteger(value) || value < 1) {
    throw new DbPerfError('INVALID_OPTIONS', `maxBatchSize must be an integer >= 1 (got ${String(size)})`);
  }
  return value;
}

/**
 * A batch loader of single rows by a unique key: `load` calls made together become one query, and
 * results come back in the order of the keys. Use the instrumented Kysely instance so its queries
 * are counted.
 *
 * @example
 * ```ts
 * const users = createLoader(db, { table: 'users', key: 'id', columns: ['id', 'name'] });
 * const authors = await Promise.all(posts.map((post) => users.load(post.author_id)));
 * ```
 */
export function createLoader<
  DB,
  Table extends keyof DB & string,
  Key extends keyof Selectable<DB[Table]> & string,
  Column extends keyof Selectable<DB[Table]> & string = keyof Selectable<DB[Table]> & string,
>(
  db: Kysely<DB>,
  options: LoaderOptions<Table, Key, Column>,
): Loader<Selectable<DB[Table]>[Key], Pick<Selectable<DB[Table]>, Column | Key>> {
  type K = Selectable<DB[Table]>[Key];
  type Row = Pick<Selectable<DB[Table]>, Column | Key>;
  const { key } = options;
  const table: string = options.table;
  const maxBatchSize = checkBatchSize(options.maxBatchSize);
  const loose = db as unknown as LooseKysely;
  const label = `loader ${table}.${key}`;
  const columns = options.columns === undefined ? undefined : [...new Set<string>([key, ...options.columns])];
  const batch = async (keys: readonly K[]): Promise<Array<Row | undefined>> => {
    const rows = await withCallSiteLabel(label, () => {
      const query = loose.selectFrom(table).where(key as string, 'in', keys as unknown[]);
      return (columns === undefined ? query.selectAll() : query.select(columns)).execute();
    });
    const byKey = new Map<string, AnyRow>();
    for (const row of rows) byKey.set(keyOf(row[key]), row);
    return keys.map((k) => byKey.get(keyOf(k)) as Row | undefined);
  };
  return perRequestLoader<K, Row | undefined>(batch, maxBatchSize);
}

/**
 * A batch loader for one-to-many relations: `load(parentKey)` returns every row whose foreign key is
 * that key, and loads made together become one query.
 *
 * @example
 * ```ts
 * const commentsOf = createRelationLoader(db, { table: 'comments', foreignKey: 'post_id', orderBy: 'id' });
 * const lists = await Promise.all(posts.map((post) => commentsOf.load(post.id)));
 * ```
 */
export function createRelationLoader<
  DB,
  Table extends keyof DB & string,
  Key extends keyof Selectable<DB[Table]> & string,
  Column extends keyof Selectable<DB[Table]> & string = keyof Selectable<DB[Table]> & string,
>(
  db: Kysely<DB>,
  options: RelationLoaderOptions<Table, Key, Column>,
): RelationLoader<Selectable<DB[Table]>[Key], Pick<Selectable<DB[Table]>, Column | Key>> {
  type K = Selectable<DB[Table]>[Key];
  type Row = Pick<Selectable<DB[Table]>, Column | Key>;
  const { foreignKey, orderBy } = options;
  const table: string = options.table;
  const maxBatchSize = checkBatchSize(options.maxBatchSize);
  const loose = db as unknown as LooseKysely;
  const label = `loader ${table}.${foreignKey}`;
  const columns =
    options.columns === undefined ? undefined : [...new Set<string>([foreignKey, ...options.columns])];
  const batch = async (keys: readonly K[]): Promise<Row[][]> => {
    const rows = await withCallSiteLabel(label, () => {
      let query = loose.selectFrom(table).where(foreignKey as string, 'in', keys as unknown[]);
      if (orderBy !== undefined) query = query.orderBy(orderBy as string);
      return (columns === undefined ? query.selectAll() : query.select(columns)).execute();
    });
    const byKey = new Map<string, Row[]>();
    for (const row of rows) {
      const k = keyOf(row[foreignKey]);
      const list = byKey.get(k);
      if (list === undefined) byKey.set(k, [row as Row]);
      else list.push(row as Row);
    }
    return keys.map((k) => byKey.get(keyOf(k)) ?? []);
  };
  return perRequestLoader<K, Row[]>(batch, maxBatchSize);
}

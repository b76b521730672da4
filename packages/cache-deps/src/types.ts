/**
 * Public types of @plat/cache-deps: the cache, its options, and the store contract that the memory and
 * Redis stores implement.
 */
import type { HttpExchange } from '@plat/core';
import type { RedisClientLike, RedisClusterLike } from './redis-connection';

/** Turns values into text for the store and back. JSON by default (`jsonCodec`). */
export interface Codec {
  /** Text for `value`; throw (or return a non-string) for values that cannot be stored. */
  encode(value: unknown): string;
  decode(text: string): unknown;
}

/** A cached value with the metadata refresh-ahead needs (XFetch: expiry and compute time). */
export interface CacheEntry<T = unknown> {
  readonly key: string;
  readonly value: T;
  /** Epoch milliseconds when the value was stored. */
  readonly createdAt: number;
  /** Epoch milliseconds when the value stops being fresh; undefined when it never expires. */
  readonly expiresAt: number | undefined;
  /** Epoch milliseconds until which `wrap` may still serve it stale (expiry + grace). */
  readonly staleUntil: number | undefined;
  /** How long computing the value took, in milliseconds (recorded by `wrap`, or given to `set`). */
  readonly computeMs: number | undefined;
  /** True when past `expiresAt` but within the grace period. */
  readonly stale: boolean;
}

/** Options of `set`. */
export interface SetOptions {
  /**
   * Time to live in milliseconds; `Infinity` for no expiry.
   * @default the cache's `defaultTtl`
   */
  ttl?: number;
  /**
   * Keys this value was built from. Invalidating any of them (or anything they depend on) removes
   * this entry. The edges live exactly as long as this entry.
   * @default []
   */
  dependsOn?: readonly string[];
  /**
   * Milliseconds after expiry during which `wrap` may still serve the old value while one caller
   * refreshes it (stale-while-revalidate). Invalidation removes stale values too.
   * @default the cache's `grace`
   */
  grace?: number;
  /**
   * How long computing the value took, in milliseconds, kept with the entry for refresh-ahead.
   * @default undefined
   */
  computeMs?: number;
}

/** Options of `wrap`. */
export interface WrapOptions {
  /** @default the cache's `defaultTtl` (see `SetOptions.ttl`) */
  ttl?: number;
  /** @default [] (see `SetOptions.dependsOn`) */
  dependsOn?: readonly string[];
  /** @default the cache's `grace` (see `SetOptions.grace`) */
  grace?: number;
  /**
   * Skip the read and compute a new value now (refresh-ahead, warming). Concurrent callers of the
   * same key still share one loader call. No read event is emitted.
   * @default false
   */
  force?: boolean;
}

/** Options of `addDependency`. */
export interface DependencyOptions {
  /**
   * Lifetime of the new edges in milliseconds.
   * @default the key's remaining lifetime when it has an entry, otherwise the cache's `defaultTtl`
   */
  ttl?: number;
}

/** Options of `invalidate`, `invalidateMany` and `invalidatePattern`. */
export interface InvalidateOptions {
  /**
   * Also invalidate everything that depends on the key, transitively. `false` is `maxDepth: 0`.
   * @default true
   */
  cascade?: boolean;
  /**
   * How many dependency levels to follow (1 = direct dependents only).
   * @default Infinity
   */
  maxDepth?: number;
  /**
   * Called for every dependent reached; `false` keeps that key (and does not cascade through it).
   * The keys passed to the call are always invalidated.
   * @default undefined (every dependent)
   */
  filter?: (key: string) => boolean;
}

/** What an invalidation removed. */
export interface InvalidationResult {
  /**
   * Every key invalidated, roots first, in breadth-first order. Keys already invalidated earlier
   * (and not set since) are walked through, so their dependents are reached, but not listed.
   */
  readonly keys: readonly string[];
  /** Dependency levels visited (1 when only the roots were touched, 0 when nothing matched). */
  readonly levels: number;
}

/** Options of `dependentsOf`. */
export interface DependentsOptions {
  /**
   * How many levels to follow (1 = direct dependents).
   * @default Infinity
   */
  depth?: number;
}

/** Where a read was answered from. */
export type ReadLayer = 'l1' | 'store';

/** One read through `get` or `wrap`, for popularity tracking (see @plat/cache-warm). */
export interface ReadEvent {
  readonly key: string;
  readonly hit: boolean;
  /** True when `wrap` served a stale value while refreshing it. */
  readonly stale: boolean;
  /** Layer that answered a hit; undefined for misses. */
  readonly layer: ReadLayer | undefined;
}

/** Context passed to `onError` for failures the cache absorbed instead of throwing. */
export interface CacheErrorContext {
  /** What was being done: `read`, `write`, `refresh`, `decode`, `coherence`, `listener`. */
  readonly operation: string;
  readonly key?: string;
}

/** The in-process L1 in front of a Redis store, kept coherent across instances. */
export interface L1Options {
  /**
   * Most entries kept in memory; the least recently used go first.
   * @default 10_000
   */
  maxEntries?: number;
  /**
   * Longest an entry stays in L1, in milliseconds (never beyond the entry's own expiry).
   * @default 60_000
   */
  ttl?: number;
  /**
   * Lease of this instance in milliseconds: L1 serves only while the lease, renewed through Redis
   * every third of it, is valid. A lost connection lets it lapse, which clears L1.
   * @default 2_000
   */
  leaseMs?: number;
  /**
   * Longest `invalidate` waits for other instances to confirm, in milliseconds. An instance that
   * neither confirms nor loses its lease by then makes `invalidate` reject with
   * `INVALIDATION_UNCONFIRMED`.
   * @default leaseMs + 500
   */
  ackTimeoutMs?: number;
}

/** Options of `createCache`. */
export interface CacheOptions {
  /**
   * Where entries and the dependency graph live.
   * @default createMemoryStore()
   */
  store?: CacheStore;
  /**
   * Prefix of every key in the store; letters, digits and `_ . : -`, at most 100 characters.
   * @default 'cache'
   */
  namespace?: string;
  /**
   * Time to live of entries in milliseconds when `set`/`wrap` give none; undefined keeps them forever.
   * @default undefined
   */
  defaultTtl?: number;
  /**
   * Stale-while-revalidate window after expiry, in milliseconds (see `SetOptions.grace`).
   * @default 0
   */
  grace?: number;
  /**
   * How values are turned into text.
   * @default jsonCodec
   */
  codec?: Codec;
  /**
   * An in-process L1 in front of the store, coherent across instances through Redis pub/sub with
   * confirmations. Needs a store that supports coherence (the Redis stores). `true` uses defaults.
   * @default false
   */
  l1?: boolean | L1Options;
  /**
   * When the store cannot be reached, reads behave as misses (`get` answers undefined, `wrap` calls
   * the loader and skips the write) instead of rejecting. Invalidations always reject.
   * @default true
   */
  failOpen?: boolean;
  /**
   * Called for every read through `get` or `wrap` (also see `cache.onRead`).
   * @default undefined
   */
  onRead?: (event: ReadEvent) => void;
  /**
   * Called with failures the cache absorbed: a store error on a fail-open read, a failed background
   * refresh, an undecodable entry, a coherence problem, a throwing listener.
   * @default undefined (ignored)
   */
  onError?: (error: unknown, context: CacheErrorContext) => void;
}

/** Options of `createMemoryStore`. */
export interface MemoryStoreOptions {
  /**
   * Most entries kept per namespace; the least recently used are evicted first (with their edges).
   * @default 100_000
   */
  maxEntries?: number;
  /**
   * How often expired entries, tombstones and edges are swept, in milliseconds.
   * @default 30_000
   */
  sweepIntervalMs?: number;
  /**
   * How long an invalidated key keeps its tombstone, in milliseconds: a `wrap` loader running longer
   * than this cannot be told that its inputs were invalidated meanwhile.
   * @default 600_000
   */
  tombstoneTtlMs?: number;
}

/** Options of `createRedisStore`. */
export interface RedisStoreOptions {
  /**
   * A connected node-redis v5 client (`createClient`) or cluster (`createCluster`). The store never
   * closes it; it opens one extra connection for pub/sub when a cache uses an L1.
   */
  client: RedisClientLike | RedisClusterLike;
  /**
   * Longest wait for any Redis call, in milliseconds; then the call fails with `STORE_TIMEOUT`.
   * @default 1_000
   */
  timeoutMs?: number;
  /**
   * Most nodes per script call in a cascade level: smaller calls block Redis for less time each.
   * @default 512
   */
  batchSize?: number;
  /**
   * How long an invalidated key keeps its tombstone, in milliseconds: a `wrap` loader running longer
   * than this cannot be told that its inputs were invalidated meanwhile.
   * @default 600_000
   */
  tombstoneTtlMs?: number;
}

/** Options of the response cache (`responseCache` in each adapter, `createResponseCache` here). */
export interface ResponseCacheOptions {
  /**
   * The cache key of a request; return undefined to leave the request alone.
   * @default `http:${exchange.url}` (path and query string)
   */
  key?: (exchange: HttpExchange) => string | undefined;
  /**
   * Keys the response depends on, from the request (`user:${exchange.params.id}`). A handler can add
   * more with `responseDependsOn()`.
   * @default none
   */
  dependsOn?: (exchange: HttpExchange) => readonly string[];
  /**
   * Time to live of a cached response in milliseconds.
   * @default the cache's `defaultTtl`
   */
  ttl?: number;
  /**
   * Statuses worth caching.
   * @default [200]
   */
  statuses?: readonly number[];
  /**
   * Largest body kept, in bytes; larger responses are sent but not cached.
   * @default 1_048_576
   */
  maxBodyBytes?: number;
  /**
   * Response headers stored and replayed with the body (lower case). `set-cookie` is never stored:
   * a response that sets a cookie is not cached at all.
   * @default content-type, content-language, content-encoding, etag, last-modified, cache-control, vary, link
   */
  headers?: readonly string[];
  /**
   * Called when storing a response failed (the response itself was already sent).
   * @default undefined (ignored)
   */
  onError?: (error: unknown) => void;
}

/** A cache with a dependency graph. Create one with `createCache`. */
export interface Cache {
  readonly namespace: string;
  /** The fresh value of `key`, or undefined. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** The entry with its metadata (stale ones included), or undefined. Emits no read event. */
  getEntry<T = unknown>(key: string): Promise<CacheEntry<T> | undefined>;
  set(key: string, value: unknown, options?: SetOptions): Promise<void>;
  /** Removes the entry of `key` (not its dependents; see `invalidate`). */
  delete(key: string): Promise<void>;
  /** The cached value, or the loader's (stored with its compute time); one loader call per key at a time. */
  wrap<T>(key: string, loader: () => T | Promise<T>, options?: WrapOptions): Promise<T>;
  /** Records that `key` depends on `dependsOn` (adds to what `set`/`wrap` declared). */
  addDependency(key: string, dependsOn: readonly string[], options?: DependencyOptions): Promise<void>;
  /** Keys that depend on `key`, breadth-first. */
  dependentsOf(key: string, options?: DependentsOptions): Promise<string[]>;
  /** Keys `key` directly depends on. */
  dependenciesOf(key: string): Promise<string[]>;
  /** Removes `key` and, transitively, everything that depends on it. */
  invalidate(key: string, options?: InvalidateOptions): Promise<InvalidationResult>;
  invalidateMany(keys: readonly string[], options?: InvalidateOptions): Promise<InvalidationResult>;
  /** Invalidates every key matching a Redis glob (`workflow:42:*`), cascading from each. Never uses KEYS. */
  invalidatePattern(pattern: string, options?: InvalidateOptions): Promise<InvalidationResult>;
  /** Adds a read listener; returns a function that removes it. */
  onRead(listener: (event: ReadEvent) => void): () => void;
  /** Stops the L1 lease and listeners. The store stays open (it may be shared). */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The store contract. The shipped stores implement it; a custom store must keep the semantics
// documented here (docs/cache-deps.md, "Writing a store").
// ---------------------------------------------------------------------------------------------

/** A place where caches keep entries and their dependency graph, shared by any number of caches. */
export interface CacheStore {
  /** `memory`, `redis` or `redis-cluster`. */
  readonly kind: string;
  /** The operations of one namespace. */
  scope(namespace: string): StoreScope;
  /** Releases what the store itself opened (never a client you passed in). */
  close(): Promise<void>;
}

/** One write: the entry, its dependency edges, and the generations observed before computing it. */
export interface StoreWrite {
  readonly key: string;
  readonly payload: string;
  /** Lifetime in the store (ttl + grace) in milliseconds; undefined for no expiry. */
  readonly ttlMs: number | undefined;
  readonly dependsOn: readonly string[];
  /**
   * Versions (from `versions`) read before the value was computed: the write is skipped when the key
   * or any dependency changed since (an invalidation, or another writer).
   */
  readonly expect?: { readonly key: string; readonly dependsOn: readonly string[] };
}

/** One node of a breadth-first level: the key and the parents it was reached from (none for roots). */
export interface VisitItem {
  readonly key: string;
  readonly from: readonly string[];
}

/** How a level is visited. */
export interface VisitMode {
  /**
   * Replace the entry by a tombstone carrying `token` (which changes its version); false only reads.
   * Edges stay (they expire with the entries that declared them): if a walk fails part-way, a retry
   * must still find its way down.
   */
  readonly invalidate: boolean;
  /** Unique per walk. */
  readonly token: string;
}

/** The outcome for one visited node. */
export interface VisitResult {
  /** False when the node was reached over an edge its current entry no longer declares. */
  readonly valid: boolean;
  /** False when it already held the tombstone of an earlier invalidation (it is walked through). */
  readonly live: boolean;
  /** Its dependents (possibly with stale edges, which the next level filters out). */
  readonly dependents: readonly string[];
}

/** Options of `StoreScope.addDependencies`. */
export interface EdgeLifetime {
  /**
   * Lifetime of the edges in milliseconds; `'none'` for no expiry; `'entry'` for as long as the
   * key's entry lives (`defaultTtlMs` when it has none).
   */
  readonly ttlMs: number | 'none' | 'entry';
  /** Lifetime for `'entry'` when the key has no entry; undefined for no expiry. */
  readonly defaultTtlMs: number | undefined;
}

/** How a cache takes part in keeping L1s coherent. */
export interface CoherenceOptions extends Required<L1Options> {
  /** True for a cache with an L1: it holds a lease and drops keys on announcements. */
  readonly lease: boolean;
}

/** Callbacks from a coherence link to the cache that owns the L1. */
export interface CoherenceHandlers {
  /** Drop these keys (undefined: everything) from L1. */
  drop(keys: readonly string[] | undefined): void;
  /** Report a problem the link absorbed. */
  error(error: unknown): void;
}

/** Keeps the L1s of several instances coherent (see docs/cache-deps.md, "The guarantee"). */
export interface CoherenceLink {
  /** True while this instance may serve from its L1. */
  live(): boolean;
  /**
   * Tells the other instances to drop keys (undefined: everything). With `confirm`, resolves only
   * once every instance holding a lease has confirmed or let its lease lapse.
   */
  announce(keys: readonly string[] | undefined, confirm: boolean): Promise<void>;
  close(): Promise<void>;
}

/** The operations of one namespace of a store. Keys are cache keys (the store adds its prefix). */
export interface StoreScope {
  /** The stored text of `key`; null or undefined when there is none. */
  get(key: string): Promise<string | null | undefined>;
  /**
   * An opaque version of each key that changes whenever the key is invalidated (or written): `wrap`
   * reads it before loading and the store compares it before storing.
   */
  versions(keys: readonly string[]): Promise<string[]>;
  /** Writes an entry and its edges; false when a version in `expect` changed (nothing written). */
  write(request: StoreWrite): Promise<boolean>;
  addDependencies(key: string, dependsOn: readonly string[], lifetime: EdgeLifetime): Promise<void>;
  dependencies(key: string): Promise<string[]>;
  /** Visits one breadth-first level; the round trips must not grow with the number of items. */
  visit(items: readonly VisitItem[], mode: VisitMode): Promise<VisitResult[]>;
  /** Keys of nodes (entries or graph nodes) matching a Redis glob, in batches. */
  scan(pattern: string): AsyncIterable<string[]>;
  /**
   * Present on stores shared by several processes, which must keep their L1s coherent. Every cache
   * on such a store opens a link; only those with an L1 (`lease: true`) hold a lease and receive.
   */
  coherence?(handlers: CoherenceHandlers, options: CoherenceOptions): CoherenceLink;
}

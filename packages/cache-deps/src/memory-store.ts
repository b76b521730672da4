/**
 * The embedded store: entries and the dependency graph in this process's memory, with the same
 * semantics as the Redis scripts (edges checked against the dependent's own record, tombstones and
 * generations that guard `wrap` against invalidations racing its loader, edges expiring with their
 * entries).
 */

import { VERSION_BYTES, versionOf } from './entry';
import { CacheError } from './errors';
import { globToRegExp } from './glob';
import { assertNamespace } from './keys';
import type {
  CacheStore,
  EdgeLifetime,
  MemoryStoreOptions,
  StoreScope,
  StoreWrite,
  VisitItem,
  VisitMode,
  VisitResult,
} from './types';

interface Expiring {
  /** performance.now() deadline; Infinity for none. */
  expiresAt: number;
}
interface StoredValue extends Expiring {
  payload: string;
}
interface EdgeSet extends Expiring {
  /** member -> deadline of that edge */
  members: Map<string, number>;
}
interface Generation extends Expiring {
  token: string;
}

const SCAN_BATCH = 1000;

function deadline(now: number, ttlMs: number | undefined): number {
  return ttlMs === undefined ? Number.POSITIVE_INFINITY : now + ttlMs;
}

function live<T extends Expiring>(map: Map<string, T>, key: string, now: number): T | undefined {
  const item = map.get(key);
  if (item === undefined) return undefined;
  if (item.expiresAt <= now) {
    map.delete(key);
    return undefined;
  }
  return item;
}

class MemoryScope implements StoreScope {
  readonly #values = new Map<string, StoredValue>();
  /** key -> the keys it depends on (authoritative) */
  readonly #parents = new Map<string, EdgeSet>();
  /** key -> the keys that depend on it (an index; members are checked against #parents) */
  readonly #dependents = new Map<string, EdgeSet>();
  readonly #generations = new Map<string, Generation>();

  constructor(
    private readonly maxEntries: number,
    private readonly tombstoneTtlMs: number,
    private readonly isClosed: () => boolean,
  ) {}

  #open(): void {
    if (this.isClosed()) throw new CacheError('CLOSED', 'the memory store was closed');
  }

  async get(key: string): Promise<string | null | undefined> {
    this.#open();
    const now = performance.now();
    const value = live(this.#values, key, now);
    if (value === undefined) return undefined;
    // Re-inserting keeps the Map in least-recently-used order for eviction.
    this.#values.delete(key);
    this.#values.set(key, value);
    return value.payload;
  }

  async versions(keys: readonly string[]): Promise<string[]> {
    this.#open();
    const now = performance.now();
    return keys.map((key) => this.#version(key, now));
  }

  /** As the Redis scripts' `state()`: the head of the stored text and the generation token. */
  #version(key: string, now: number): string {
    const head = live(this.#values, key, now)?.payload.slice(0, VERSION_BYTES) ?? '';
    return versionOf(head, live(this.#generations, key, now)?.token ?? '');
  }

  async write(request: StoreWrite): Promise<boolean> {
    this.#open();
    const now = performance.now();
    const { key, dependsOn, expect } = request;
    if (expect !== undefined) {
      if (this.#version(key, now) !== expect.key) return false;
      for (let i = 0; i < dependsOn.length; i++) {
        if (this.#version(dependsOn[i]!, now) !== (expect.dependsOn[i] ?? '')) return false;
      }
    }
    const until = deadline(now, request.ttlMs);
    for (const parent of dependsOn) this.#addEdge(this.#dependents, parent, key, until, now, request.ttlMs);
    this.#values.delete(key);
    this.#values.set(key, { payload: request.payload, expiresAt: until });
    if (dependsOn.length === 0) this.#parents.delete(key);
    else this.#parents.set(key, { expiresAt: until, members: new Map(dependsOn.map((p) => [p, until])) });
    this.#evict();
    return true;
  }

  async addDependencies(key: string, dependsOn: readonly string[], lifetime: EdgeLifetime): Promise<void> {
    this.#open();
    const now = performance.now();
    let ttlMs = typeof lifetime.ttlMs === 'number' ? lifetime.ttlMs : undefined;
    if (lifetime.ttlMs === 'entry') {
      const value = live(this.#values, key, now);
      // A tombstone is no entry: its lifetime is not the key's.
      ttlMs =
        value === undefined || value.payload.startsWith('0|')
          ? lifetime.defaultTtlMs
          : value.expiresAt === Number.POSITIVE_INFINITY
            ? undefined
            : Math.max(1, value.expiresAt - now);
    }
    const until = deadline(now, ttlMs);
    for (const parent of dependsOn) {
      this.#addEdge(this.#dependents, parent, key, until, now, ttlMs);
      this.#addEdge(this.#parents, key, parent, until, now, ttlMs);
    }
  }

  /** ZADD + "extend the key's expiry, never shorten it" as in the Redis scripts. */
  #addEdge(
    index: Map<string, EdgeSet>,
    owner: string,
    member: string,
    until: number,
    now: number,
    ttlMs: number | undefined,
  ): void {
    let set = live(index, owner, now);
    if (set === undefined) {
      set = { expiresAt: until, members: new Map() };
      index.set(owner, set);
    } else {
      for (const [m, at] of set.members) if (at <= now) set.members.delete(m);
      if (ttlMs === undefined) set.expiresAt = Number.POSITIVE_INFINITY;
      else if (set.expiresAt < until) set.expiresAt = until;
    }
    set.members.set(member, until);
  }

  async dependencies(key: string): Promise<string[]> {
    this.#open();
    const now = performance.now();
    const set = live(this.#parents, key, now);
    return set === undefined ? [] : [...set.members.keys()];
  }

  async visit(items: readonly VisitItem[], mode: VisitMode): Promise<VisitResult[]> {
    this.#open();
    const now = performance.now();
    return items.map(({ key, from }) => {
      const parents = live(this.#parents, key, now);
      const valid = from.length === 0 || from.some((parent) => parents?.members.has(parent) === true);
      if (!valid) {
        if (mode.invalidate) {
          this.#generations.set(key, { token: mode.token, expiresAt: now + this.tombstoneTtlMs });
        }
        return { valid: false, live: false, dependents: [] };
      }
      const dependents = [...(live(this.#dependents, key, now)?.members.keys() ?? [])];
      let wasLive = true;
      if (mode.invalidate) {
        wasLive = live(this.#values, key, now)?.payload.startsWith('0|') !== true;
        this.#values.delete(key);
        this.#values.set(key, { payload: `0|${mode.token}`, expiresAt: now + this.tombstoneTtlMs });
        this.#evict();
      }
      return { valid: true, live: wasLive, dependents };
    });
  }

  async *scan(pattern: string): AsyncIterable<string[]> {
    this.#open();
    const matcher = globToRegExp(pattern);
    const now = performance.now();
    const seen = new Set<string>();
    let batch: string[] = [];
    for (const map of [this.#values, this.#parents, this.#dependents] as Map<string, Expiring>[]) {
      // A snapshot, so the caller may invalidate between batches.
      for (const [key, item] of [...map]) {
        if (item.expiresAt <= now || seen.has(key) || !matcher.test(key)) continue;
        seen.add(key);
        batch.push(key);
        if (batch.length >= SCAN_BATCH) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield batch;
  }

  #evict(): void {
    while (this.#values.size > this.maxEntries) {
      const oldest = this.#values.keys().next().value as string;
      this.#values.delete(oldest);
      this.#parents.delete(oldest);
    }
  }

  sweep(): void {
    const now = performance.now();
    for (const map of [this.#values, this.#parents, this.#dependents, this.#generations] as Map<
      string,
      Expiring
    >[]) {
      for (const [key, item] of map) if (item.expiresAt <= now) map.delete(key);
    }
    for (const set of this.#dependents.values()) {
      for (const [member, at] of set.members) if (at <= now) set.members.delete(member);
    }
  }
}

/**
 * The embedded store: everything in this process's memory. Real and complete for a single process
 * (the same semantics as the Redis store); use Redis when several processes share a cache.
 *
 * @example
 * ```ts
 * const cache = createCache({ store: createMemoryStore({ maxEntries: 50_000 }), defaultTtl: 60_000 });
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): CacheStore {
  const { maxEntries = 100_000, sweepIntervalMs = 30_000, tombstoneTtlMs = 600_000 } = options;
  for (const [name, value] of Object.entries({ maxEntries, sweepIntervalMs, tombstoneTtlMs })) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new CacheError('INVALID_OPTIONS', `${name} must be a positive number of milliseconds or entries`);
    }
  }
  const scopes = new Map<string, MemoryScope>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const isClosed = () => closed;
  return {
    kind: 'memory',
    scope(namespace: string): StoreScope {
      assertNamespace(namespace);
      if (closed) throw new CacheError('CLOSED', 'the memory store was closed');
      let scope = scopes.get(namespace);
      if (scope === undefined) {
        scope = new MemoryScope(maxEntries, tombstoneTtlMs, isClosed);
        scopes.set(namespace, scope);
      }
      if (timer === undefined) {
        timer = setInterval(() => {
          for (const s of scopes.values()) s.sweep();
        }, sweepIntervalMs);
        timer.unref();
      }
      return scope;
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      scopes.clear();
    },
  };
}

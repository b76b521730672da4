/**
 * The cache: reads (L1, then the store), writes with dependency edges, single-flight `wrap`, and
 * invalidation as a breadth-first walk with one store round per level.
 */
import { randomBytes } from 'node:crypto';
import { isPlatError } from '@plat/core';
import { encodeValue, jsonCodec } from './codec';
import { decodeEntry, type EntryMeta, encodeEntry, isTombstone } from './entry';
import { CacheError } from './errors';
import { assertKey, assertNamespace, checkKeys, MAX_KEY_LENGTH } from './keys';
import { LocalLayer } from './l1';
import { createMemoryStore } from './memory-store';
import type {
  Cache,
  CacheEntry,
  CacheErrorContext,
  CacheOptions,
  Codec,
  CoherenceLink,
  DependencyOptions,
  DependentsOptions,
  InvalidateOptions,
  InvalidationResult,
  L1Options,
  ReadEvent,
  SetOptions,
  StoreScope,
  VisitItem,
  WrapOptions,
} from './types';

/** Above this many keys, an invalidation tells other instances to clear their whole L1 instead. */
const MAX_KEYS_PER_ANNOUNCEMENT = 1000;

interface Plan {
  ttl: number | undefined;
  grace: number;
  dependsOn: string[];
  computeMs: number | undefined;
}

/** An entry as just written: its metadata and the codec's text. */
interface Written {
  key: string;
  meta: EntryMeta;
  payload: string;
}

interface Fetched {
  entry: CacheEntry | undefined;
  /** The store could not be read (fail-open): callers must not write either. */
  failed: boolean;
}

const NOTHING: Fetched = { entry: undefined, failed: false };
const FAILED: Fetched = { entry: undefined, failed: true };
const NO_PARENTS: readonly string[] = Object.freeze([]);

interface CascadeState {
  readonly token: string;
  /** Keys invalidated so far (validly reached), in order. */
  readonly keys: string[];
  readonly done: Set<string>;
  levels: number;
}

function isStoreFailure(error: unknown): boolean {
  return isPlatError(error, 'STORE_UNAVAILABLE') || isPlatError(error, 'STORE_TIMEOUT');
}

function checkDuration(value: unknown, name: string, allowInfinity: boolean, allowZero = false): number {
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (allowZero ? value >= 0 : value > 0) &&
    (Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY));
  if (!ok) {
    throw new CacheError(
      'INVALID_OPTIONS',
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds${allowInfinity ? ' or Infinity' : ''}`,
    );
  }
  return value as number;
}

function resolveL1(l1: true | L1Options): Required<L1Options> {
  const options: L1Options = l1 === true ? {} : l1;
  if (typeof options !== 'object' || options === null) {
    throw new CacheError('INVALID_OPTIONS', 'l1 must be true, false or an options object');
  }
  const maxEntries = checkDuration(options.maxEntries ?? 10_000, 'l1.maxEntries', false);
  const ttl = checkDuration(options.ttl ?? 60_000, 'l1.ttl', false);
  const leaseMs = checkDuration(options.leaseMs ?? 2_000, 'l1.leaseMs', false);
  if (leaseMs < 50) throw new CacheError('INVALID_OPTIONS', 'l1.leaseMs must be at least 50 ms');
  const ackTimeoutMs = checkDuration(options.ackTimeoutMs ?? leaseMs + 500, 'l1.ackTimeoutMs', false);
  return { maxEntries, ttl, leaseMs, ackTimeoutMs };
}

function checkInvalidateOptions(options: InvalidateOptions): {
  maxDepth: number;
  filter?: (key: string) => boolean;
} {
  if (typeof options !== 'object' || options === null) {
    throw new CacheError('INVALID_OPTIONS', 'invalidation options must be an object');
  }
  const { cascade = true, maxDepth = Number.POSITIVE_INFINITY, filter } = options;
  if (typeof cascade !== 'boolean') throw new CacheError('INVALID_OPTIONS', 'cascade must be a boolean');
  if (!(maxDepth === Number.POSITIVE_INFINITY || (Number.isInteger(maxDepth) && maxDepth >= 0))) {
    throw new CacheError('INVALID_OPTIONS', 'maxDepth must be a non-negative integer or Infinity');
  }
  if (filter !== undefined && typeof filter !== 'function') {
    throw new CacheError('INVALID_OPTIONS', 'filter must be a function');
  }
  return filter === undefined
    ? { maxDepth: cascade ? maxDepth : 0 }
    : { maxDepth: cascade ? maxDepth : 0, filter };
}

class DependencyCache implements Cache {
  readonly namespace: string;
  readonly #scope: StoreScope;
  readonly #codec: Codec;
  readonly #defaultTtl: number | undefined;
  readonly #grace: number;
  readonly #failOpen: boolean;
  readonly #listeners = new Set<(event: ReadEvent) => void>();
  readonly #onError: ((error: unknown, context: CacheErrorContext) => void) | undefined;
  readonly #l1: LocalLayer | undefined;
  readonly #link: CoherenceLink | undefined;
  /** Bumped whenever L1 drops keys: a store read that began before may not refill L1. */
  #epoch = 0;
  readonly #flights = new Map<string, Promise<unknown>>();
  #closed = false;

  constructor(options: CacheOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new CacheError('INVALID_OPTIONS', 'createCache options must be an object');
    }
    const {
      store = createMemoryStore(),
      namespace = 'cache',
      defaultTtl,
      grace = 0,
      codec = jsonCodec,
      l1 = false,
      failOpen = true,
      onRead,
      onError,
    } = options;
    assertNamespace(namespace);
    if (typeof store?.scope !== 'function') {
      throw new CacheError(
        'INVALID_OPTIONS',
        'store must be a CacheStore (createMemoryStore, createRedisStore)',
      );
    }
    if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function') {
      throw new CacheError('INVALID_OPTIONS', 'codec must have encode and decode functions');
    }
    if (onRead !== undefined && typeof onRead !== 'function') {
      throw new CacheError('INVALID_OPTIONS', 'onRead must be a function');
    }
    if (onError !== undefined && typeof onError !== 'function') {
      throw new CacheError('INVALID_OPTIONS', 'onError must be a function');
    }
    this.namespace = namespace;
    this.#defaultTtl =
      defaultTtl === undefined || defaultTtl === Number.POSITIVE_INFINITY
        ? undefined
        : checkDuration(defaultTtl, 'defaultTtl', true);
    this.#grace = checkDuration(grace, 'grace', false, true);
    this.#codec = codec;
    this.#failOpen = failOpen !== false;
    this.#onError = onError;
    if (onRead !== undefined) this.#listeners.add(onRead);
    this.#scope = store.scope(namespace);
    const withL1 = l1 !== false && l1 !== undefined;
    const l1Options = resolveL1(withL1 ? l1 : true);
    if (withL1 && this.#scope.coherence === undefined) {
      throw new CacheError(
        'INVALID_OPTIONS',
        `l1 needs a store that keeps several instances coherent (a Redis store); ${store.kind} does not`,
      );
    }
    if (withL1) this.#l1 = new LocalLayer(l1Options.maxEntries, l1Options.ttl);
    // Every cache on a shared store takes part, L1 or not: its invalidations must reach (and be
    // confirmed by) the instances that do hold an L1. Without an L1 it only announces.
    this.#link = this.#scope.coherence?.(
      {
        drop: (keys) => this.#dropLocal(keys),
        error: (error) => this.#report(error, { operation: 'coherence' }),
      },
      { ...l1Options, lease: withL1 },
    );
  }

  // -------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------

  get<T = unknown>(key: string): Promise<T | undefined> {
    try {
      this.#open();
      assertKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    const local = this.#localGet(key);
    if (local !== undefined) {
      if (this.#listeners.size > 0) this.#emit({ key, hit: true, stale: false, layer: 'l1' });
      return Promise.resolve(local.value as T);
    }
    // One `then` on the store's promise, not nested async functions: this is the hottest path.
    const epoch = this.#epoch;
    return this.#scope.get(key).then(
      (text) => {
        const entry = this.#entryOf(key, text, epoch);
        if (entry === undefined || entry.stale) {
          if (this.#listeners.size > 0) this.#emit({ key, hit: false, stale: false, layer: undefined });
          return undefined;
        }
        if (this.#listeners.size > 0) this.#emit({ key, hit: true, stale: false, layer: 'store' });
        return entry.value as T;
      },
      (error: unknown) => {
        this.#readFailed(key, error);
        if (this.#listeners.size > 0) this.#emit({ key, hit: false, stale: false, layer: undefined });
        return undefined;
      },
    );
  }

  async getEntry<T = unknown>(key: string): Promise<CacheEntry<T> | undefined> {
    this.#open();
    assertKey(key);
    const local = this.#localGet(key);
    if (local !== undefined) return local as CacheEntry<T>;
    const { entry } = await this.#fetch(key);
    return entry as CacheEntry<T> | undefined;
  }

  #localGet(key: string): CacheEntry | undefined {
    if (this.#l1 === undefined || !this.#l1Usable()) return undefined;
    return this.#l1.get(key, Date.now());
  }

  /** L1 may serve only while the coherence lease holds; a lapse empties it. */
  #l1Usable(): boolean {
    if (this.#link?.live() === true) return true;
    if (this.#l1!.size > 0) this.#dropLocal(undefined);
    return false;
  }

  #fetch(key: string): Promise<Fetched> {
    const epoch = this.#epoch;
    return this.#scope.get(key).then(
      (text) => {
        const entry = this.#entryOf(key, text, epoch);
        return entry === undefined ? NOTHING : { entry, failed: false };
      },
      (error: unknown) => {
        this.#readFailed(key, error);
        return FAILED;
      },
    );
  }

  /** Fail-open: a store failure reads as a miss (reported); otherwise it is the caller's error. */
  #readFailed(key: string, error: unknown): void {
    if (!this.#failOpen || !isStoreFailure(error)) throw error;
    this.#report(error, { operation: 'read', key });
  }

  /** The entry in stored text (none for absent keys and tombstones); fresh ones also go to L1. */
  #entryOf(key: string, text: string | null | undefined, epoch: number): CacheEntry | undefined {
    if (text == null || isTombstone(text)) return undefined;
    const entry = this.#decode(key, text);
    if (entry !== undefined && !entry.stale) this.#fill(entry, epoch);
    return entry;
  }

  #decode(key: string, text: string): CacheEntry | undefined {
    const now = Date.now();
    const decoded = decodeEntry(text);
    if (decoded === undefined) {
      this.#report(new CacheError('INVALID_VALUE', 'a stored entry is not in the cache format'), {
        operation: 'decode',
        key,
      });
      return undefined;
    }
    if (decoded.staleUntil !== undefined && now >= decoded.staleUntil) return undefined;
    let value: unknown;
    try {
      value = this.#codec.decode(decoded.payload);
    } catch (error) {
      this.#report(
        new CacheError('INVALID_VALUE', 'the codec could not decode a stored entry', { cause: error }),
        {
          operation: 'decode',
          key,
        },
      );
      return undefined;
    }
    return {
      key,
      value,
      createdAt: decoded.createdAt,
      expiresAt: decoded.expiresAt,
      staleUntil: decoded.staleUntil,
      computeMs: decoded.computeMs,
      stale: decoded.expiresAt !== undefined && now >= decoded.expiresAt,
    };
  }

  /** Puts a fresh entry in L1 unless some drop happened since the read that produced it began. */
  #fill(entry: CacheEntry, epoch: number): void {
    if (this.#l1 === undefined || epoch !== this.#epoch || !this.#l1Usable()) return;
    this.#l1.set(entry, Date.now());
  }

  // -------------------------------------------------------------------------------------------
  // Writes
  // -------------------------------------------------------------------------------------------

  #plan(options: SetOptions | WrapOptions, computeMs: number | undefined): Plan {
    if (typeof options !== 'object' || options === null) {
      throw new CacheError('INVALID_OPTIONS', 'options must be an object');
    }
    const ttl =
      options.ttl === undefined
        ? this.#defaultTtl
        : options.ttl === Number.POSITIVE_INFINITY
          ? undefined
          : checkDuration(options.ttl, 'ttl', true);
    const grace =
      options.grace === undefined ? this.#grace : checkDuration(options.grace, 'grace', false, true);
    const dependsOn = options.dependsOn === undefined ? [] : checkKeys(options.dependsOn, 'dependsOn');
    if (computeMs !== undefined) checkDuration(computeMs, 'computeMs', false, true);
    return { ttl, grace, dependsOn, computeMs };
  }

  #entryFor(
    key: string,
    value: unknown,
    plan: Plan,
  ): { text: string; written: Written; ttlMs: number | undefined } {
    const payload = encodeValue(this.#codec, value);
    const now = Date.now();
    const meta: EntryMeta = {
      createdAt: now,
      expiresAt: plan.ttl === undefined ? undefined : now + plan.ttl,
      staleUntil: plan.ttl === undefined ? undefined : now + plan.ttl + plan.grace,
      computeMs: plan.computeMs === undefined ? undefined : Math.round(plan.computeMs),
    };
    return {
      text: encodeEntry(meta, payload),
      written: { key, meta, payload },
      ttlMs: plan.ttl === undefined ? undefined : Math.ceil(plan.ttl + plan.grace),
    };
  }

  /**
   * Puts what was just written in L1, decoded from its payload: L1 must answer exactly what the
   * store would (a caller may mutate the object it passed, and codecs do not round-trip everything).
   */
  #fillWritten(written: Written, epoch: number): void {
    if (this.#l1 === undefined || epoch !== this.#epoch || !this.#l1Usable()) return;
    let value: unknown;
    try {
      value = this.#codec.decode(written.payload);
    } catch {
      return; // it will be reported when read from the store
    }
    this.#l1.set({ key: written.key, value, ...written.meta, stale: false }, Date.now());
  }

  async set(key: string, value: unknown, options: SetOptions = {}): Promise<void> {
    this.#open();
    assertKey(key);
    const plan = this.#plan(options, options.computeMs);
    const { text, written, ttlMs } = this.#entryFor(key, value, plan);
    // Older copies in L1 go first; a read racing this write must not put them back.
    this.#l1?.drop([key]);
    const epoch = ++this.#epoch;
    await this.#scope.write({ key, payload: text, ttlMs, dependsOn: plan.dependsOn });
    this.#fillWritten(written, epoch);
    this.#announceChange(key);
  }

  async wrap<T>(key: string, loader: () => T | Promise<T>, options: WrapOptions = {}): Promise<T> {
    this.#open();
    assertKey(key);
    if (typeof loader !== 'function') throw new CacheError('INVALID_OPTIONS', 'loader must be a function');
    const plan = this.#plan(options, undefined);
    if (options.force === true) return this.#load(key, loader, plan, false);
    const local = this.#localGet(key);
    if (local !== undefined) {
      if (this.#listeners.size > 0) this.#emit({ key, hit: true, stale: false, layer: 'l1' });
      return local.value as T;
    }
    const { entry, failed } = await this.#fetch(key);
    if (entry !== undefined) {
      if (this.#listeners.size > 0) this.#emit({ key, hit: true, stale: entry.stale, layer: 'store' });
      if (entry.stale) {
        this.#load(key, loader, plan, false).catch((error: unknown) =>
          this.#report(error, { operation: 'refresh', key }),
        );
      }
      return entry.value as T;
    }
    if (this.#listeners.size > 0) this.#emit({ key, hit: false, stale: false, layer: undefined });
    return this.#load(key, loader, plan, failed);
  }

  /** One loader call per key at a time in this process; later callers share it. */
  #load<T>(key: string, loader: () => T | Promise<T>, plan: Plan, skipWrite: boolean): Promise<T> {
    const existing = this.#flights.get(key);
    if (existing !== undefined) return existing as Promise<T>;
    const flight: Promise<T> = this.#compute(key, loader, plan, skipWrite).finally(() => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    });
    this.#flights.set(key, flight);
    return flight;
  }

  async #compute<T>(key: string, loader: () => T | Promise<T>, plan: Plan, skipWrite: boolean): Promise<T> {
    const epoch = this.#epoch;
    let expect: { key: string; dependsOn: string[] } | undefined;
    let writable = !skipWrite;
    if (writable) {
      try {
        // Versions read before loading: if the key or a dependency is invalidated while the loader
        // runs, the store refuses the write, so a value built from old data never lands.
        const [own = '', ...parents] = await this.#scope.versions([key, ...plan.dependsOn]);
        expect = { key: own, dependsOn: parents };
      } catch (error) {
        if (!isStoreFailure(error)) throw error;
        this.#report(error, { operation: 'read', key });
        writable = false;
      }
    }
    const started = performance.now();
    const value = await loader();
    const computeMs = performance.now() - started;
    if (!writable || value === undefined) return value;
    const { text, written, ttlMs } = this.#entryFor(key, value, { ...plan, computeMs });
    try {
      const stored = await this.#scope.write({
        key,
        payload: text,
        ttlMs,
        dependsOn: plan.dependsOn,
        ...(expect === undefined ? {} : { expect }),
      });
      if (stored) {
        this.#fillWritten(written, epoch);
        this.#announceChange(key);
      }
    } catch (error) {
      if (!isStoreFailure(error)) throw error;
      this.#report(error, { operation: 'write', key });
    }
    return value;
  }

  /** Other instances drop their L1 copy of a key this one just wrote (best effort, unconfirmed). */
  #announceChange(key: string): void {
    if (this.#link === undefined) return;
    this.#link
      .announce([key], false)
      .catch((error: unknown) => this.#report(error, { operation: 'coherence', key }));
  }

  async addDependency(
    key: string,
    dependsOn: readonly string[],
    options: DependencyOptions = {},
  ): Promise<void> {
    this.#open();
    assertKey(key);
    const parents = checkKeys(dependsOn, 'dependsOn');
    if (typeof options !== 'object' || options === null) {
      throw new CacheError('INVALID_OPTIONS', 'options must be an object');
    }
    const ttlMs =
      options.ttl === undefined
        ? 'entry'
        : options.ttl === Number.POSITIVE_INFINITY
          ? 'none'
          : checkDuration(options.ttl, 'ttl', true);
    if (parents.length === 0) return;
    await this.#scope.addDependencies(key, parents, { ttlMs, defaultTtlMs: this.#defaultTtl });
  }

  // -------------------------------------------------------------------------------------------
  // The graph
  // -------------------------------------------------------------------------------------------

  async dependentsOf(key: string, options: DependentsOptions = {}): Promise<string[]> {
    this.#open();
    assertKey(key);
    const depth = options?.depth ?? Number.POSITIVE_INFINITY;
    if (!(depth === Number.POSITIVE_INFINITY || (Number.isInteger(depth) && depth >= 0))) {
      throw new CacheError('INVALID_OPTIONS', 'depth must be a non-negative integer or Infinity');
    }
    const found: string[] = [];
    const done = new Set<string>([key]);
    let items: VisitItem[] = [{ key, from: NO_PARENTS }];
    for (let level = 0; items.length > 0 && level <= depth; level++) {
      const results = await this.#scope.visit(items, { invalidate: false, token: '' });
      const next = new Map<string, VisitItem & { from: string[] }>();
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        const result = results[i];
        if (result === undefined || !result.valid) continue;
        if (level > 0) {
          done.add(item.key);
          found.push(item.key);
        }
        if (level === depth) continue;
        for (const dependent of result.dependents) {
          if (done.has(dependent)) continue;
          const reached = next.get(dependent);
          if (reached === undefined) next.set(dependent, { key: dependent, from: [item.key] });
          else reached.from.push(item.key);
        }
      }
      items = [];
      next.forEach((item) => {
        if (!done.has(item.key)) items.push(item);
      });
    }
    return found;
  }

  async dependenciesOf(key: string): Promise<string[]> {
    this.#open();
    assertKey(key);
    return this.#scope.dependencies(key);
  }

  // -------------------------------------------------------------------------------------------
  // Invalidation
  // -------------------------------------------------------------------------------------------

  async delete(key: string): Promise<void> {
    this.#open();
    assertKey(key);
    await this.#invalidate([key], { maxDepth: 0 });
  }

  async invalidate(key: string, options: InvalidateOptions = {}): Promise<InvalidationResult> {
    this.#open();
    assertKey(key);
    return this.#invalidate([key], checkInvalidateOptions(options));
  }

  async invalidateMany(
    keys: readonly string[],
    options: InvalidateOptions = {},
  ): Promise<InvalidationResult> {
    this.#open();
    const roots = checkKeys(keys, 'keys');
    return this.#invalidate(roots, checkInvalidateOptions(options));
  }

  async invalidatePattern(pattern: string, options: InvalidateOptions = {}): Promise<InvalidationResult> {
    this.#open();
    if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_KEY_LENGTH) {
      throw new CacheError(
        'INVALID_OPTIONS',
        `pattern must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`,
      );
    }
    const checked = checkInvalidateOptions(options);
    const state = this.#newCascade();
    await this.#settled(state, [], async () => {
      for await (const batch of this.#scope.scan(pattern)) {
        const roots = batch.filter((key) => !state.done.has(key));
        if (roots.length > 0) await this.#walk(roots, checked, state);
      }
    });
    return { keys: state.keys, levels: state.levels };
  }

  #newCascade(): CascadeState {
    return {
      token: randomBytes(12).toString('base64url'),
      keys: [],
      done: new Set(),
      levels: 0,
    };
  }

  async #invalidate(
    roots: readonly string[],
    options: { maxDepth: number; filter?: (key: string) => boolean },
  ): Promise<InvalidationResult> {
    const state = this.#newCascade();
    await this.#settled(state, roots, () => this.#walk(roots, options, state));
    return { keys: state.keys, levels: state.levels };
  }

  /**
   * Runs a walk, then drops the keys locally and waits until every other instance confirmed (or lost
   * its lease). When the walk fails part-way, whatever it may have removed still leaves the L1s,
   * without waiting, and the walk's error is what the caller sees.
   */
  async #settled(state: CascadeState, roots: readonly string[], walk: () => Promise<void>): Promise<void> {
    try {
      await walk();
    } catch (error) {
      const keys = [...new Set([...roots, ...state.keys])];
      if (keys.length > 0) {
        this.#dropLocal(keys);
        this.#link
          ?.announce(keys.length > MAX_KEYS_PER_ANNOUNCEMENT ? undefined : keys, false)
          .catch((failure: unknown) => this.#report(failure, { operation: 'coherence' }));
      }
      throw error;
    }
    const { keys } = state;
    if (keys.length === 0) return;
    this.#dropLocal(keys);
    if (this.#link !== undefined) {
      await this.#link.announce(keys.length > MAX_KEYS_PER_ANNOUNCEMENT ? undefined : keys, true);
    }
  }

  /**
   * Breadth-first over the graph, one store call per level: the round trips grow with the depth of
   * the graph, never with the number of dependents. Cycles end because a key is invalidated once.
   */
  async #walk(
    roots: readonly string[],
    options: { maxDepth: number; filter?: (key: string) => boolean },
    state: CascadeState,
  ): Promise<void> {
    const { maxDepth, filter } = options;
    // In-flight reads must not refill L1 with what is being removed.
    this.#epoch++;
    let items: VisitItem[] = roots.map((key) => ({ key, from: NO_PARENTS }));
    // Indexed loops and plain arrays: this runs for every node of a cascade, and a 10,000-node walk
    // should not spend its time on iterator objects.
    for (let depth = 0; items.length > 0; depth++) {
      const results = await this.#scope.visit(items, { invalidate: true, token: state.token });
      const next = new Map<string, VisitItem & { from: string[] }>();
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        const result = results[i];
        if (result === undefined || !result.valid || state.done.has(item.key)) continue;
        state.done.add(item.key);
        if (result.live) {
          state.levels = Math.max(state.levels, depth + 1);
          state.keys.push(item.key);
        }
        if (depth >= maxDepth) continue;
        const { dependents } = result;
        for (let d = 0; d < dependents.length; d++) {
          const dependent = dependents[d]!;
          if (state.done.has(dependent) || (filter !== undefined && !filter(dependent))) continue;
          const reached = next.get(dependent);
          if (reached === undefined) next.set(dependent, { key: dependent, from: [item.key] });
          else reached.from.push(item.key);
        }
      }
      items = [];
      next.forEach((item) => {
        // Keys invalidated later in this same level are done already.
        if (!state.done.has(item.key)) items.push(item);
      });
    }
  }

  /** Called for local invalidations and for messages from other instances. */
  #dropLocal(keys: readonly string[] | undefined): void {
    this.#epoch++;
    this.#l1?.drop(keys);
    // A loader already running for an invalidated key keeps its callers, but new callers start over.
    if (keys === undefined) this.#flights.clear();
    else for (const key of keys) this.#flights.delete(key);
  }

  // -------------------------------------------------------------------------------------------
  // Events and lifecycle
  // -------------------------------------------------------------------------------------------

  onRead(listener: (event: ReadEvent) => void): () => void {
    if (typeof listener !== 'function')
      throw new CacheError('INVALID_OPTIONS', 'listener must be a function');
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #emit(event: ReadEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#report(error, { operation: 'listener', key: event.key });
      }
    }
  }

  #report(error: unknown, context: CacheErrorContext): void {
    if (this.#onError === undefined) return;
    try {
      this.#onError(error, context);
    } catch {
      // An error hook that throws must not turn an absorbed failure into a crash.
    }
  }

  #open(): void {
    if (this.#closed) throw new CacheError('CLOSED', `cache "${this.namespace}" was closed`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#dropLocal(undefined);
    this.#listeners.clear();
    await this.#link?.close();
  }
}

/**
 * Creates a cache with a dependency graph over a store (in-process by default, Redis or Redis Cluster
 * with `createRedisStore`).
 *
 * @example
 * ```ts
 * const cache = createCache({ namespace: 'app', defaultTtl: 60_000 });
 * const list = await cache.wrap('workflows:user:1', () => db.workflowsOf(1), { dependsOn: ['user:1'] });
 * await cache.invalidate('user:1'); // removes workflows:user:1 and everything built on it
 * ```
 */
export function createCache(options: CacheOptions = {}): Cache {
  return new DependencyCache(options);
}

/**
 * The warmer: named warmers with their key sources, runs bounded by p-limit, a deadline and a
 * circuit, cron schedules locked across a fleet, refresh-ahead on reads, and start-up warming.
 */
import type { Cache, ReadEvent } from '@plat/cache-deps';
import { isPlatError, redactApiKeys } from '@plat/core';
import pLimit, { type LimitFunction } from 'p-limit';
import { Circuit } from './circuit';
import { describe, optionalMs, toMs } from './duration';
import { CacheWarmError } from './errors';
import { isTimeZone } from './hour-of-day';
import { Popularity } from './popularity';
import { RedisCommands } from './redis-commands';
import { CronSchedule, parseCron } from './schedule';
import { loadTracer, type RunTracer } from './tracing';
import type {
  KeySource,
  LoadContext,
  RefreshAheadOptions,
  RunResult,
  RunTrigger,
  StartupTaskOptions,
  WarmErrorContext,
  Warmer,
  WarmerDefinition,
  WarmerOptions,
  WarmerStatus,
  WarmFailure,
  WarmStatus,
  WarmUpResult,
} from './types';
import { xfetchDue } from './xfetch';

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
const LAST_RUNS = 10;
const MAX_FAILURES = 50;
/** Keys remembered per warmer (warmed keys for refresh-ahead, entry metadata): bounded memory. */
const REMEMBERED = 10_000;

interface EntryMeta {
  expiresAt: number;
  computeMs: number | undefined;
}

interface RegisteredWarmer {
  readonly name: string;
  readonly definition: WarmerDefinition<unknown>;
  readonly ttlMs: number | undefined;
  readonly dependsOn: (key: string) => readonly string[];
  readonly skipFresherMs: number;
  readonly deadlineMs: number;
  readonly circuit: Circuit;
  readonly schedule: { cron: string; timeZone: string; timer: CronSchedule } | undefined;
  readonly refresh: Required<RefreshAheadOptions> | undefined;
  readonly match: ((key: string) => boolean) | undefined;
  readonly listed: ReadonlySet<string>;
  /** Keys this warmer loaded, newest last (insertion order), for refresh-ahead ownership. */
  readonly warmed: Map<string, true>;
  /** Expiry and compute time of entries of this warmer that were read, for XFetch. */
  readonly meta: Map<string, EntryMeta>;
  /** The expiry each key was last refreshed for: one recompute per expiry window. */
  readonly refreshedFor: Map<string, number>;
  readonly probing: Set<string>;
  running: Promise<RunResult> | undefined;
  lastRuns: RunResult[];
  refreshes: { done: number; failed: number };
}

/** Adds `key` to a bounded insertion-ordered map, dropping the oldest beyond `REMEMBERED`. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value as string);
}

/** `Array.isArray` that narrows a readonly list too. */
function isKeyList(keys: KeySource): keys is readonly string[] {
  return Array.isArray(keys);
}

function invalid(message: string, option: string): CacheWarmError {
  return new CacheWarmError('INVALID_OPTIONS', message, { details: { option } });
}

/** Passwords in URLs (`redis://user:secret@host`), which driver errors sometimes quote. */
const URL_PASSWORD = /(\/\/[^\s:/@]*):[^\s@/]*@/g;

/**
 * A failure as recorded in runs, status and the admin endpoint: the loader's message, shortened,
 * with API keys and URL passwords redacted (runs are logged and served to admins).
 */
function failureOf(key: string, error: unknown): WarmFailure {
  const code = isPlatError(error) ? error.code : 'LOAD_FAILED';
  const raw = error instanceof Error ? error.message : String(error);
  const message = redactApiKeys(raw).replace(URL_PASSWORD, '$1:[REDACTED]@');
  return { key, code, message: message.length > 300 ? `${message.slice(0, 300)}…` : message };
}

function positiveInteger(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  throw invalid(`${option} must be a positive integer; got ${describe(value)}`, option);
}

class CacheWarmer implements Warmer {
  readonly #cache: Cache;
  readonly #limit: LimitFunction;
  readonly #redis: RedisCommands | undefined;
  readonly #prefix: string;
  readonly #options: WarmerOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #popularity: Popularity;
  readonly #warmers = new Map<string, RegisteredWarmer>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #stopController = new AbortController();
  readonly #unsubscribe: () => void;
  readonly #flushTimer: NodeJS.Timeout | undefined;
  readonly #tracer: Promise<RunTracer | undefined>;
  readonly #defaults: { deadlineMs: number; jitterMs: number; timeZone: string };
  #startup: Promise<WarmUpResult> | undefined;
  #stopped = false;

  constructor(options: WarmerOptions) {
    if (typeof options !== 'object' || options === null)
      throw invalid('createWarmer needs an options object', 'options');
    const { cache } = options;
    if (
      typeof cache !== 'object' ||
      cache === null ||
      typeof cache.wrap !== 'function' ||
      typeof cache.onRead !== 'function'
    ) {
      throw invalid('cache must be a @plat/cache-deps cache (createCache())', 'cache');
    }
    this.#cache = cache;
    this.#options = options;
    this.#limit = pLimit(positiveInteger(options.concurrency, 4, 'concurrency'));
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#prefix = options.prefix ?? `warm:${cache.namespace}`;
    if (typeof this.#prefix !== 'string' || !NAME.test(this.#prefix)) {
      throw invalid(
        `prefix must be 1–100 letters, digits or _ . : -; got ${describe(this.#prefix)}`,
        'prefix',
      );
    }
    if (options.redis !== undefined) {
      if (
        typeof options.redis !== 'object' ||
        options.redis === null ||
        typeof options.redis.sendCommand !== 'function'
      ) {
        throw invalid('redis must be a connected node-redis v5 client or cluster', 'redis');
      }
      this.#redis = new RedisCommands(options.redis);
    }
    const timeZone = options.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) {
      throw invalid(
        `timeZone must be an IANA time zone such as 'Europe/Paris'; got ${describe(timeZone)}`,
        'timeZone',
      );
    }
    this.#defaults = {
      deadlineMs: optionalMs(options.deadline, 60_000, 'deadline'),
      jitterMs: optionalMs(options.jitter, 0, 'jitter'),
      timeZone,
    };
    const popularity = options.popularity ?? {};
    const shared = this.#redis !== undefined && popularity.shared !== false;
    this.#popularity = new Popularity({
      width: positiveInteger(popularity.width, 4096, 'popularity.width'),
      depth: positiveInteger(popularity.depth, 4, 'popularity.depth'),
      capacity: positiveInteger(popularity.capacity, 1000, 'popularity.capacity'),
      hourlyKeys: positiveInteger(popularity.hourlyKeys, 1000, 'popularity.hourlyKeys'),
      timeZone,
      now: this.#now,
      shared: shared ? { redis: this.#redis!, prefix: this.#prefix } : undefined,
      onError: (error, operation) => this.#report(error, { operation }),
    });
    // Refresh-ahead decides on the smallest window; one always exists so hotness is known.
    this.#popularity.track(3_600_000, 0);
    if (shared) {
      const every = optionalMs(popularity.flushInterval, 5_000, 'popularity.flushInterval');
      this.#flushTimer = setInterval(() => void this.#popularity.flush(), Math.max(100, every));
      this.#flushTimer.unref();
    }
    this.#unsubscribe = cache.onRead((event) => this.#onRead(event));
    this.#tracer = options.tracing === false ? Promise.resolve(undefined) : loadTracer();
  }

  register<T>(name: string, definition: WarmerDefinition<T>): void {
    if (this.#stopped) throw new CacheWarmError('STOPPED', 'The warmer was stopped; create a new one');
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw invalid(`warmer name must be 1–100 letters, digits or _ . : -; got ${describe(name)}`, 'name');
    }
    if (this.#warmers.has(name)) {
      throw new CacheWarmError('DUPLICATE_WARMER', `A warmer named "${name}" is already registered`, {
        details: { warmer: name },
      });
    }
    const warmer = this.#build(name, definition as WarmerDefinition<unknown>);
    this.#warmers.set(name, warmer);
    warmer.schedule?.timer.start();
  }

  #build(name: string, definition: WarmerDefinition<unknown>): RegisteredWarmer {
    if (typeof definition !== 'object' || definition === null) {
      throw invalid(`warmer "${name}" needs a definition { keys, load, ttl, dependsOn }`, 'definition');
    }
    const { keys, load } = definition;
    let listed: ReadonlySet<string> = new Set();
    if (Array.isArray(keys)) {
      if (!keys.every((key) => typeof key === 'string' && key.length > 0)) {
        throw invalid(`keys of warmer "${name}" must be non-empty strings`, 'keys');
      }
      listed = new Set(keys);
    } else if (typeof keys === 'object' && keys !== null && 'kind' in keys) {
      if (keys.kind === 'popular') this.#popularity.track(keys.windowMs, keys.top);
      else if (keys.kind !== 'time-of-day')
        throw invalid(`keys of warmer "${name}" has an unknown kind`, 'keys');
    } else if (typeof keys !== 'function') {
      throw invalid(
        `keys of warmer "${name}" must be an array, a function, popular({ top, window }) or timeOfDay({ top })`,
        'keys',
      );
    }
    if (typeof load !== 'function')
      throw invalid(`load of warmer "${name}" must be a function (key) => value`, 'load');
    const ttlMs = definition.ttl === undefined ? undefined : toMs(definition.ttl, `ttl of warmer "${name}"`);
    const { dependsOn } = definition;
    let dependsOnOf: (key: string) => readonly string[];
    if (dependsOn === undefined) dependsOnOf = () => [];
    else if (typeof dependsOn === 'function') dependsOnOf = dependsOn;
    else if (Array.isArray(dependsOn) && dependsOn.every((key) => typeof key === 'string'))
      dependsOnOf = () => dependsOn;
    else
      throw invalid(
        `dependsOn of warmer "${name}" must be a list of keys or a function of the key`,
        'dependsOn',
      );
    const circuitOptions = this.#options.circuit ?? {};
    const circuit = new Circuit(
      positiveInteger(circuitOptions.failureThreshold, 5, 'circuit.failureThreshold'),
      optionalMs(circuitOptions.slowLoad, 5_000, 'circuit.slowLoad'),
      optionalMs(circuitOptions.cooldown, 30_000, 'circuit.cooldown'),
      () => performance.now(),
    );
    let schedule: RegisteredWarmer['schedule'];
    if (definition.schedule !== undefined) {
      const spec =
        typeof definition.schedule === 'string' ? { cron: definition.schedule } : definition.schedule;
      if (typeof spec !== 'object' || spec === null)
        throw invalid(`schedule of warmer "${name}" must be a cron expression or { cron }`, 'schedule');
      const timeZone = spec.timeZone ?? this.#defaults.timeZone;
      if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) {
        throw invalid(
          `time zone of warmer "${name}" is not an IANA time zone: ${describe(timeZone)}`,
          'schedule.timeZone',
        );
      }
      const jitterMs = optionalMs(spec.jitter, this.#defaults.jitterMs, `jitter of warmer "${name}"`);
      const time = parseCron(spec.cron, timeZone, name);
      const timer = new CronSchedule(
        time,
        timeZone,
        jitterMs,
        (planned) => this.#fire(name, planned),
        this.#random,
      );
      schedule = { cron: spec.cron, timeZone, timer };
    }
    let refresh: RegisteredWarmer['refresh'];
    if (definition.refreshAhead !== undefined && definition.refreshAhead !== false) {
      const options = definition.refreshAhead === true ? {} : definition.refreshAhead;
      const beta = options.beta ?? 1;
      if (typeof beta !== 'number' || !(beta > 0) || !Number.isFinite(beta)) {
        throw invalid(
          `refreshAhead.beta of warmer "${name}" must be a positive number; got ${describe(beta)}`,
          'refreshAhead.beta',
        );
      }
      const minReads = options.minReads ?? 2;
      if (typeof minReads !== 'number' || !(minReads >= 0)) {
        throw invalid(`refreshAhead.minReads of warmer "${name}" must be 0 or more`, 'refreshAhead.minReads');
      }
      refresh = {
        beta,
        minReads,
        defaultComputeMs: optionalMs(options.defaultComputeMs, 50, 'refreshAhead.defaultComputeMs'),
      };
    }
    const { match } = definition;
    let matcher: ((key: string) => boolean) | undefined;
    if (typeof match === 'string') matcher = (key) => key.startsWith(match);
    else if (match instanceof RegExp) matcher = (key) => match.test(key);
    else if (typeof match === 'function') matcher = match;
    else if (match !== undefined)
      throw invalid(`match of warmer "${name}" must be a prefix, a RegExp or a function`, 'match');
    if (definition.onStartup !== undefined && typeof definition.onStartup !== 'boolean') {
      throw invalid(`onStartup of warmer "${name}" must be a boolean`, 'onStartup');
    }
    return {
      name,
      definition,
      ttlMs,
      dependsOn: dependsOnOf,
      skipFresherMs: optionalMs(
        definition.skipFresherThan,
        ttlMs === undefined ? 0 : ttlMs / 2,
        `skipFresherThan of warmer "${name}"`,
      ),
      deadlineMs: optionalMs(definition.deadline, this.#defaults.deadlineMs, `deadline of warmer "${name}"`),
      circuit,
      schedule,
      refresh,
      match: matcher,
      listed,
      warmed: new Map(),
      meta: new Map(),
      refreshedFor: new Map(),
      probing: new Set(),
      running: undefined,
      lastRuns: [],
      refreshes: { done: 0, failed: 0 },
    };
  }

  #get(name: string): RegisteredWarmer {
    const warmer = typeof name === 'string' ? this.#warmers.get(name) : undefined;
    if (warmer === undefined) {
      throw new CacheWarmError('UNKNOWN_WARMER', `No warmer named ${describe(name)} is registered`, {
        details: { warmer: typeof name === 'string' ? name.slice(0, 100) : undefined },
      });
    }
    return warmer;
  }

  run(name: string): Promise<RunResult> {
    try {
      if (this.#stopped) throw new CacheWarmError('STOPPED', 'The warmer was stopped');
      return this.#start(this.#get(name), 'manual');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Starts a run, or joins the one in progress: runs of one warmer never overlap. */
  #start(warmer: RegisteredWarmer, trigger: RunTrigger, plannedAt?: number): Promise<RunResult> {
    if (warmer.running !== undefined) return warmer.running;
    const running = this.#traced(warmer, trigger, plannedAt).finally(() => {
      warmer.running = undefined;
    });
    warmer.running = running;
    return this.#track(running);
  }

  async #traced(warmer: RegisteredWarmer, trigger: RunTrigger, plannedAt?: number): Promise<RunResult> {
    const tracer = await this.#tracer;
    const execute = async () => {
      const result = await this.#execute(warmer, trigger);
      return plannedAt === undefined ? result : { ...result, scheduledAt: new Date(plannedAt).toISOString() };
    };
    const result = tracer === undefined ? await execute() : await tracer(warmer.name, trigger, execute);
    this.#finish(warmer, result);
    return result;
  }

  /** A scheduled firing: skipped while a run is in progress, and run by one instance of the fleet. */
  #fire(name: string, plannedAt: number): void {
    const warmer = this.#warmers.get(name);
    if (warmer === undefined || this.#stopped || warmer.running !== undefined) return;
    const claimed =
      this.#redis === undefined
        ? Promise.resolve(true)
        : this.#redis.claim(
            `${this.#prefix}:schedule:${name}:${plannedAt}`,
            Math.max(60_000, warmer.deadlineMs * 2),
          );
    void this.#track(
      claimed.then(
        (mine) => {
          if (this.#stopped) return;
          if (!mine) {
            const scheduledAt = new Date(plannedAt).toISOString();
            this.#finish(warmer, { ...this.#emptyResult(warmer, 'schedule', 'locked'), scheduledAt });
            return;
          }
          return this.#start(warmer, 'schedule', plannedAt);
        },
        // Without Redis we cannot know whether another instance runs it; skipping is the safe side.
        (error: unknown) => this.#report(error, { operation: 'lock', warmer: name }),
      ),
    );
  }

  #emptyResult(warmer: RegisteredWarmer, trigger: RunTrigger, outcome: RunResult['outcome']): RunResult {
    return {
      warmer: warmer.name,
      trigger,
      startedAt: new Date(this.#now()).toISOString(),
      durationMs: 0,
      keys: 0,
      warmed: 0,
      skipped: 0,
      failed: 0,
      skippedBy: {},
      failures: [],
      deadlineExceeded: false,
      outcome,
    };
  }

  async #resolveKeys(warmer: RegisteredWarmer): Promise<string[]> {
    const { keys } = warmer.definition;
    let list: readonly string[];
    if (isKeyList(keys)) list = keys;
    else if (typeof keys === 'function') list = await keys();
    else if (keys.kind === 'popular')
      list = (await this.#popularity.top(keys.windowMs, keys.top, keys.filter))
        .filter((k) => k.count >= keys.minCount)
        .map((k) => k.key);
    else
      list = (await this.#popularity.timeOfDay(this.#now() + keys.leadMs, keys.top, keys.filter)).map(
        (k) => k.key,
      );
    if (!Array.isArray(list))
      throw invalid(`keys of warmer "${warmer.name}" did not return an array`, 'keys');
    return [...new Set(list.filter((key) => typeof key === 'string' && key.length > 0))];
  }

  async #execute(warmer: RegisteredWarmer, trigger: RunTrigger): Promise<RunResult> {
    const startedAt = new Date(this.#now()).toISOString();
    const started = performance.now();
    let keys: string[];
    try {
      keys = await this.#resolveKeys(warmer);
    } catch (error) {
      this.#report(error, { operation: 'keys', warmer: warmer.name });
      return {
        ...this.#emptyResult(warmer, trigger, 'keys-failed'),
        startedAt,
        durationMs: performance.now() - started,
        failed: 1,
        failures: [{ key: '*', code: 'KEYS_FAILED', message: failureOf('*', error).message }],
      };
    }
    const controller = new AbortController();
    const stopListener = () => controller.abort(new CacheWarmError('STOPPED', 'The warmer was stopped'));
    this.#stopController.signal.addEventListener('abort', stopListener);
    const context: LoadContext = { signal: controller.signal, reason: trigger };
    const skippedBy: Record<string, number> = {};
    const failures: WarmFailure[] = [];
    const loading = new Set<string>();
    let warmed = 0;
    let failed = 0;
    let closed = false;
    const deadlineAt = started + warmer.deadlineMs;
    const skip = (reason: string) => {
      if (!closed) skippedBy[reason] = (skippedBy[reason] ?? 0) + 1;
    };
    const fail = (failure: WarmFailure) => {
      if (closed) return;
      failed += 1;
      if (failures.length < MAX_FAILURES) failures.push(failure);
    };

    const warmOne = async (key: string): Promise<void> => {
      if (this.#stopped) return skip('stopped');
      if (performance.now() >= deadlineAt) return skip('deadline');
      if (await this.#isFresh(warmer, key)) return skip('fresh');
      if (!warmer.circuit.allow()) return skip('circuit-open');
      loading.add(key);
      const loadStarted = performance.now();
      try {
        await this.#cache.wrap(
          key,
          () => warmer.definition.load(key, context),
          this.#writeOptions(warmer, key),
        );
        warmer.circuit.record(true, performance.now() - loadStarted);
        remember(warmer.warmed, key, true);
        if (!closed) warmed += 1;
      } catch (error) {
        warmer.circuit.record(false, performance.now() - loadStarted);
        const failure = failureOf(key, error);
        fail(failure);
        this.#report(error, { operation: 'load', warmer: warmer.name, key });
      } finally {
        loading.delete(key);
      }
    };

    const all = Promise.all(keys.map((key) => this.#track(this.#limit(warmOne, key))));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), Math.max(0, deadlineAt - performance.now()));
      timer.unref();
    });
    const outcome = await Promise.race([all.then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    this.#stopController.signal.removeEventListener('abort', stopListener);
    const deadlineExceeded = outcome === 'deadline';
    if (deadlineExceeded) {
      for (const key of loading) {
        fail({
          key,
          code: 'DEADLINE_EXCEEDED',
          message: `still loading when the ${warmer.deadlineMs} ms deadline of warmer "${warmer.name}" passed`,
        });
      }
      const started = warmed + failed + Object.values(skippedBy).reduce((a, b) => a + b, 0);
      const notStarted = keys.length - started;
      if (notStarted > 0) skippedBy.deadline = (skippedBy.deadline ?? 0) + notStarted;
      controller.abort(new CacheWarmError('DEADLINE_EXCEEDED', `deadline of warmer "${warmer.name}" passed`));
    }
    closed = true;
    const skipped = Object.values(skippedBy).reduce((a, b) => a + b, 0);
    return {
      warmer: warmer.name,
      trigger,
      startedAt,
      durationMs: performance.now() - started,
      keys: keys.length,
      warmed,
      skipped,
      failed,
      skippedBy,
      failures,
      deadlineExceeded,
      outcome: 'completed',
    };
  }

  /** True when the entry has at least `skipFresherMs` of life left: reloading it would waste a load. */
  async #isFresh(warmer: RegisteredWarmer, key: string): Promise<boolean> {
    try {
      const entry = await this.#cache.getEntry(key);
      if (entry === undefined || entry.stale) return false;
      if (entry.expiresAt === undefined) return true;
      return entry.expiresAt - this.#now() > warmer.skipFresherMs;
    } catch {
      // An unreadable entry is treated as missing: warming will try to write it.
      return false;
    }
  }

  #writeOptions(warmer: RegisteredWarmer, key: string) {
    return {
      force: true,
      ...(warmer.ttlMs === undefined ? {} : { ttl: warmer.ttlMs }),
      dependsOn: warmer.dependsOn(key),
    };
  }

  #finish(warmer: RegisteredWarmer, result: RunResult): void {
    warmer.lastRuns = [result, ...warmer.lastRuns].slice(0, LAST_RUNS);
    const { logger, onRun } = this.#options;
    if (logger !== undefined && result.outcome !== 'locked') {
      const { failures, ...summary } = result;
      this.#safely(() => logger.info('cache-warm run', { ...summary }));
      if (failures.length > 0) {
        this.#safely(() =>
          logger.warn('cache-warm run had failures', {
            warmer: result.warmer,
            failed: result.failed,
            failures,
          }),
        );
      }
    }
    if (onRun !== undefined) this.#safely(() => onRun(result));
  }

  // -------------------------------------------------------------------------------------------
  // Reads: popularity and refresh-ahead
  // -------------------------------------------------------------------------------------------

  #onRead(event: ReadEvent): void {
    if (this.#stopped) return;
    this.#popularity.record(event.key);
    for (const warmer of this.#warmers.values()) {
      if (warmer.refresh === undefined || !this.#owns(warmer, event.key)) continue;
      if (!event.hit || event.stale) warmer.meta.delete(event.key);
      else this.#considerRefresh(warmer, warmer.refresh, event.key);
      return;
    }
  }

  #owns(warmer: RegisteredWarmer, key: string): boolean {
    if (warmer.match !== undefined) return warmer.match(key);
    return warmer.listed.has(key) || warmer.warmed.has(key);
  }

  /** Applies XFetch to a hit of a hot key; metadata is read once per entry, not per read. */
  #considerRefresh(warmer: RegisteredWarmer, options: Required<RefreshAheadOptions>, key: string): void {
    if (options.minReads > 0 && this.#popularity.estimate(key) < options.minReads) return;
    const meta = warmer.meta.get(key);
    const now = this.#now();
    if (meta === undefined || now >= meta.expiresAt) {
      this.#probe(warmer, key);
      return;
    }
    if (warmer.refreshedFor.get(key) === meta.expiresAt) return;
    // Under a millisecond is below what the store records (it rounds): use the assumed time instead.
    const computeMs =
      meta.computeMs !== undefined && meta.computeMs >= 1 ? meta.computeMs : options.defaultComputeMs;
    if (!xfetchDue(now, meta.expiresAt, computeMs, options.beta, this.#random)) return;
    // Claimed for this expiry before anything async: later reads of the same window stop here.
    remember(warmer.refreshedFor, key, meta.expiresAt);
    void this.#track(this.#refresh(warmer, key, meta.expiresAt));
  }

  #probe(warmer: RegisteredWarmer, key: string): void {
    if (warmer.probing.has(key)) return;
    warmer.probing.add(key);
    void this.#track(
      this.#cache
        .getEntry(key)
        .then(
          (entry) => {
            if (entry !== undefined && entry.expiresAt !== undefined && !entry.stale) {
              remember(warmer.meta, key, { expiresAt: entry.expiresAt, computeMs: entry.computeMs });
            }
          },
          (error: unknown) => this.#report(error, { operation: 'refresh', warmer: warmer.name, key }),
        )
        .finally(() => warmer.probing.delete(key)),
    );
  }

  async #refresh(warmer: RegisteredWarmer, key: string, expiresAt: number): Promise<void> {
    try {
      if (this.#redis !== undefined) {
        // One instance of the fleet recomputes per expiry window; the claim lapses with the window.
        const mine = await this.#redis.claim(
          `${this.#prefix}:refresh:${expiresAt}:${key}`,
          Math.max(1_000, expiresAt - this.#now() + 60_000),
        );
        if (!mine) return;
      }
      if (this.#stopped || !warmer.circuit.allow()) return;
      const context: LoadContext = { signal: this.#stopController.signal, reason: 'refresh-ahead' };
      await this.#limit(async () => {
        if (this.#stopped) return;
        const started = performance.now();
        try {
          await this.#cache.wrap(
            key,
            () => warmer.definition.load(key, context),
            this.#writeOptions(warmer, key),
          );
          const computeMs = performance.now() - started;
          warmer.circuit.record(true, computeMs);
          warmer.refreshes.done += 1;
          if (warmer.ttlMs !== undefined)
            remember(warmer.meta, key, { expiresAt: this.#now() + warmer.ttlMs, computeMs });
          else warmer.meta.delete(key);
        } catch (error) {
          warmer.circuit.record(false, performance.now() - started);
          throw error;
        }
      });
    } catch (error) {
      warmer.refreshes.failed += 1;
      this.#report(error, { operation: 'refresh', warmer: warmer.name, key });
    }
  }

  recordRead(key: string): void {
    if (typeof key === 'string' && key.length > 0 && !this.#stopped) this.#popularity.record(key);
  }

  popularKeys(top: number, window: string | number = '1h'): Promise<Array<{ key: string; count: number }>> {
    try {
      const n = positiveInteger(top, 100, 'top');
      return this.#popularity.top(Math.max(1000, toMs(window, 'window')), n);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Start-up, status, stop
  // -------------------------------------------------------------------------------------------

  startupTask(options: StartupTaskOptions = {}): Promise<WarmUpResult> {
    if (this.#startup !== undefined) return this.#startup;
    const names =
      options.warmers ??
      [...this.#warmers.values()].filter((w) => w.definition.onStartup !== false).map((w) => w.name);
    const warmers = names.map((name) => this.#get(name));
    const started = performance.now();
    const work = Promise.all(
      warmers.map((warmer) =>
        this.#stopped
          ? Promise.resolve(this.#emptyResult(warmer, 'startup', 'completed'))
          : this.#start(warmer, 'startup'),
      ),
    ).then((runs) => ({ runs, durationMs: performance.now() - started }));
    this.#startup = work;
    const registry = this.#options.startup;
    if (registry !== undefined) {
      const timeoutMs = options.timeout === undefined ? undefined : toMs(options.timeout, 'timeout');
      registry.startupTask(
        this.#options.startupTaskName ?? 'cache-warm',
        work,
        timeoutMs === undefined ? undefined : { timeoutMs },
      );
    }
    return work;
  }

  status(): WarmStatus {
    return {
      warmers: [...this.#warmers.values()].map((warmer) => this.#statusOf(warmer)),
      inFlight: this.#limit.activeCount,
      stopped: this.#stopped,
      popularity: { reads: this.#popularity.reads, bytes: this.#popularity.bytes },
    };
  }

  statusOf(name: string): WarmerStatus | undefined {
    const warmer = this.#warmers.get(name);
    return warmer === undefined ? undefined : this.#statusOf(warmer);
  }

  #statusOf(warmer: RegisteredWarmer): WarmerStatus {
    const next = warmer.schedule?.timer.next;
    return {
      name: warmer.name,
      running: warmer.running !== undefined,
      schedule:
        warmer.schedule === undefined
          ? undefined
          : {
              cron: warmer.schedule.cron,
              timeZone: warmer.schedule.timeZone,
              nextRun: next === undefined ? undefined : new Date(next).toISOString(),
            },
      refreshAhead: warmer.refresh !== undefined,
      circuit: warmer.circuit.state,
      refreshes: { ...warmer.refreshes },
      lastRuns: warmer.lastRuns,
    };
  }

  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      for (const warmer of this.#warmers.values()) warmer.schedule?.timer.stop();
      this.#unsubscribe();
      if (this.#flushTimer !== undefined) clearInterval(this.#flushTimer);
    }
    // Loads already running finish (a half-written entry is worse than a late one); loads still
    // queued see the flag and return without loading (p-limit's clearQueue would leave their
    // promises pending forever). Aborting the signal tells loaders that honour it to give up early.
    this.#stopController.abort(new CacheWarmError('STOPPED', 'The warmer was stopped'));
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#popularity.flush();
  }

  /** Keeps `promise` in the in-flight set until it settles, so `stop()` can wait for it. */
  #track<T>(promise: Promise<T>): Promise<T> {
    const tracked = promise.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
    // The caller may not await (schedules, refreshes): a rejection here is reported, not unhandled.
    tracked.catch(() => {});
    return tracked;
  }

  #report(error: unknown, context: WarmErrorContext): void {
    const { onError } = this.#options;
    if (onError !== undefined) this.#safely(() => onError(error, context));
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch {
      // A throwing hook must never break a run or a read.
    }
  }
}

/**
 * Creates a warmer over a @plat/cache-deps cache: register warmers by name, run them on demand, on
 * cron schedules and at start-up; every read of the cache is counted for `popular()`.
 *
 * @example
 * ```ts
 * const warmer = createWarmer({ cache, concurrency: 4, redis: client, startup: health });
 * warmer.register('popular-workflows', {
 *   keys: popular({ top: 100, window: '1h' }),
 *   load: (key) => db.workflowById(key.split(':')[1]),
 *   ttl: '10m',
 *   dependsOn: (key) => [`workflow-row:${key.split(':')[1]}`],
 *   schedule: { cron: '*\/5 * * * *', timeZone: 'Europe/Paris', jitter: '20s' },
 *   refreshAhead: { beta: 1 },
 * });
 * void warmer.startupTask(); // the startup probe waits for it
 * await warmer.run('popular-workflows'); // on demand
 * ```
 */
export function createWarmer(options: WarmerOptions): Warmer {
  return new CacheWarmer(options);
}

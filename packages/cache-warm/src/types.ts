/**
 * Public types of @plat/cache-warm: the warmer, its options, warmer definitions, key sources and the
 * status it reports.
 */
import type { Cache } from '@plat/cache-deps';

/** A duration: milliseconds, or text such as `'500ms'`, `'30s'`, `'15m'`, `'1h'`, `'1d'`. */
export type Duration = number | string;

/**
 * What a warmer needs from Redis (a connected node-redis v5 `createClient()`, or a `createCluster()`):
 * plain commands. Typed structurally so @plat/cache-warm has no runtime dependency on `redis`.
 */
export type WarmRedisClient =
  | { sendCommand(args: string[]): Promise<unknown> }
  | {
      readonly masters: readonly unknown[];
      sendCommand(
        firstKey: string | undefined,
        isReadonly: boolean | undefined,
        args: string[],
      ): Promise<unknown>;
    };

/**
 * The part of a @plat/health registry the warmer uses to make the startup probe wait for warm-up
 * (`createHealth()` fits; a structural type, so no dependency on @plat/health).
 */
export interface StartupTaskRegistry {
  startupTask(
    name: string,
    work?: Promise<unknown> | (() => unknown),
    options?: { timeoutMs?: number },
  ): unknown;
}

/** Where the warmer writes run summaries and failures; winston's and @plat/logging's loggers fit. */
export interface WarmerLogger {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
}

/** A popularity query: the `top` most read keys, with counts halved every `window`. See `popular()`. */
export interface PopularKeys {
  readonly kind: 'popular';
  readonly top: number;
  /** Milliseconds after which past reads count half. */
  readonly windowMs: number;
  /** Keep only keys for which this is true (several warmers can share one cache). */
  readonly filter: ((key: string) => boolean) | undefined;
  /** Leave out keys whose decayed count is below this (quiet hours warm fewer keys). */
  readonly minCount: number;
}

/** Keys popular in the coming hour of previous days. See `timeOfDay()`. */
export interface TimeOfDayKeys {
  readonly kind: 'time-of-day';
  readonly top: number;
  /** How far ahead the hour is looked up: at 08:45 with `lead: '15m'`, the 09:00–10:00 hour. */
  readonly leadMs: number;
  readonly filter: ((key: string) => boolean) | undefined;
}

/** Where a warmer's keys come from. */
export type KeySource =
  | readonly string[]
  | (() => readonly string[] | Promise<readonly string[]>)
  | PopularKeys
  | TimeOfDayKeys;

/** A cron schedule: the expression, its time zone, and the random delay added to each firing. */
export interface ScheduleOptions {
  /** Five or six field cron expression (`'0 7 * * 1-5'`; seconds first when six), or `@hourly` etc. */
  cron: string;
  /**
   * IANA time zone the expression is read in (`'Europe/Paris'`).
   * @default the warmer's `timeZone`
   */
  timeZone?: string;
  /**
   * Largest random delay added to each firing, so that a fleet does not hit the database at the
   * same second. Instances agree on the firing they lock, whatever their jitter.
   * @default the warmer's `jitter`
   */
  jitter?: Duration;
}

/** Refresh-ahead with the XFetch rule: hot entries are recomputed shortly before they expire. */
export interface RefreshAheadOptions {
  /**
   * XFetch's β: a read at `now` recomputes when `now − computeMs × β × ln(rand) ≥ expiresAt`. Higher
   * refreshes earlier (more loads, fewer misses); 1 is the paper's optimum for most loads.
   * @default 1
   */
  beta?: number;
  /**
   * A key is refreshed ahead only once it has been read this many times (decayed popularity), so
   * one-off reads never cost a recompute.
   * @default 2
   */
  minReads?: number;
  /**
   * Compute time assumed for entries that carry none (or under 1 ms, below what stores record), in
   * milliseconds.
   * @default 50
   */
  defaultComputeMs?: number;
}

/** What a loader is given besides the key. */
export interface LoadContext {
  /** Aborted at the run's deadline or when the warmer stops. */
  readonly signal: AbortSignal;
  /** Why the load happens. */
  readonly reason: RunTrigger | 'refresh-ahead';
}

/** One warmer: which keys, how to load one, and how long the value lives. */
export interface WarmerDefinition<T = unknown> {
  /** The keys to warm: a list, a function returning one, `popular({ top, window })` or `timeOfDay({ top })`. */
  keys: KeySource;
  /**
   * Computes the value of one key (usually a database query). `signal` aborts when the run's
   * deadline passes or the warmer stops; a loader that honours it frees its connection early.
   */
  load: (key: string, context: LoadContext) => T | Promise<T>;
  /**
   * Lifetime of warmed entries.
   * @default the cache's `defaultTtl`
   */
  ttl?: Duration;
  /**
   * What a warmed value was built from, so invalidating it removes the warmed entry (a list, or a
   * function of the key: `(key) => ['user:' + key.split(':')[1]]`).
   * @default []
   */
  dependsOn?: readonly string[] | ((key: string) => readonly string[]);
  /** Runs on a cron schedule: an expression, or `{ cron, timeZone, jitter }`. @default none */
  schedule?: string | ScheduleOptions;
  /** Recompute read entries of this warmer before they expire. `true` uses the defaults. @default false */
  refreshAhead?: boolean | RefreshAheadOptions;
  /**
   * Which cache keys this warmer can load, for refresh-ahead: a prefix, a RegExp or a predicate.
   * @default keys this warmer has warmed (a bounded set) or that its `keys` list names
   */
  match?: string | RegExp | ((key: string) => boolean);
  /** Run at start-up (`warmer.startupTask()`). @default true */
  onStartup?: boolean;
  /**
   * An entry with at least this much life left is not reloaded by a run.
   * @default half the `ttl` (0 when there is no ttl: existing entries are always skipped)
   */
  skipFresherThan?: Duration;
  /** Longest a run of this warmer may take; keys not started by then are skipped. @default the warmer's `deadline` */
  deadline?: Duration;
}

/** Circuit breaker over the loaders of one warmer. */
export interface CircuitOptions {
  /**
   * Consecutive failed (or slow) loads that open the circuit.
   * @default 5
   */
  failureThreshold?: number;
  /**
   * A load taking longer than this counts as a failure (the database is struggling).
   * @default 5_000
   */
  slowLoad?: Duration;
  /**
   * How long the circuit stays open before one trial load is let through.
   * @default 30_000
   */
  cooldown?: Duration;
}

/** Popularity tracking of reads. */
export interface PopularityOptions {
  /**
   * Counters per row of the count-min sketch. Memory is `width × depth × 4` bytes per window.
   * The error of a count is at most `e / width` of all reads with probability `1 − e^−depth`.
   * @default 4096
   */
  width?: number;
  /** Rows of the count-min sketch. @default 4 */
  depth?: number;
  /**
   * Keys kept in the top-K heap of each window (the largest `top` any query asks is used when larger).
   * @default 1000
   */
  capacity?: number;
  /**
   * Aggregate popularity across instances in Redis sorted sets (needs the warmer's `redis`).
   * @default true when `redis` is given
   */
  shared?: boolean;
  /**
   * How often this instance adds its counts to the shared sorted sets.
   * @default 5_000
   */
  flushInterval?: Duration;
  /**
   * Hourly profiles for `timeOfDay()` keep this many keys per hour of the day.
   * @default 1000
   */
  hourlyKeys?: number;
}

/** Options of `createWarmer`. */
export interface WarmerOptions {
  /** The @plat/cache-deps cache warmed through (entries keep their dependencies); its reads are counted. */
  cache: Cache;
  /**
   * Loads running at once, across all warmers of this instance.
   * @default 4
   */
  concurrency?: number;
  /**
   * A connected node-redis v5 client: locks so one instance of a fleet runs each scheduled firing
   * and each refresh-ahead recompute, and shared popularity. Without it, each instance acts alone.
   * @default undefined
   */
  redis?: WarmRedisClient;
  /**
   * Prefix of the Redis keys of the warmer (locks, shared popularity); warmers sharing it form one
   * fleet. Letters, digits and `_ . : -`.
   * @default `warm:${cache.namespace}`
   */
  prefix?: string;
  /** Default time zone of schedules. @default the process' time zone */
  timeZone?: string;
  /** Default jitter of schedules. @default 0 */
  jitter?: Duration;
  /**
   * Default longest run of a warmer; keys not started by then are skipped and loads still running
   * are reported as failed with `DEADLINE_EXCEEDED` (they finish in the background).
   * @default 60_000
   */
  deadline?: Duration;
  /** Circuit breaker per warmer. @default { failureThreshold: 5, slowLoad: 5_000, cooldown: 30_000 } */
  circuit?: CircuitOptions;
  /** Popularity tracking. */
  popularity?: PopularityOptions;
  /** A @plat/health registry: `startupTask()` registers the warm-up with it. @default undefined */
  startup?: StartupTaskRegistry;
  /** Name of the startup task. @default 'cache-warm' */
  startupTaskName?: string;
  /** Run summaries (info) and failures (warn). @default undefined */
  logger?: WarmerLogger;
  /**
   * Trace each run with @opentelemetry/api when it is installed (a span `cache-warm.run`).
   * @default true
   */
  tracing?: boolean;
  /** Called with every finished run. */
  onRun?: (result: RunResult) => void;
  /** Called with every failure the warmer absorbed (a load, a lock, a flush, a refresh). */
  onError?: (error: unknown, context: WarmErrorContext) => void;
  /** Where time comes from (tests, simulations). @default Date.now */
  now?: () => number;
  /** Random numbers for XFetch and jitter (tests, simulations). @default Math.random */
  random?: () => number;
}

/** What was being done when an absorbed failure happened. */
export interface WarmErrorContext {
  /** `load`, `refresh`, `lock`, `flush`, `keys`, `schedule`, `listener`. */
  readonly operation: string;
  readonly warmer?: string;
  readonly key?: string;
}

/** What started a run. */
export type RunTrigger = 'manual' | 'schedule' | 'startup';

/** One key that could not be warmed. */
export interface WarmFailure {
  readonly key: string;
  /** A CacheWarmError code (`LOAD_FAILED`, `DEADLINE_EXCEEDED`) or the cache's error code. */
  readonly code: string;
  readonly message: string;
}

/** The outcome of one run of a warmer. */
export interface RunResult {
  readonly warmer: string;
  readonly trigger: RunTrigger;
  /** ISO time the run started. */
  readonly startedAt: string;
  /** For scheduled runs, the planned firing (ISO, before jitter): what a fleet agrees on. */
  readonly scheduledAt?: string;
  readonly durationMs: number;
  /** Keys the run considered. */
  readonly keys: number;
  /** Keys loaded and stored. */
  readonly warmed: number;
  /** Keys left alone: still fresh, circuit open, deadline passed, or stopping. */
  readonly skipped: number;
  /** Keys whose load failed or did not finish before the deadline. */
  readonly failed: number;
  /** Why keys were skipped, by reason (`fresh`, `circuit-open`, `deadline`, `stopped`). */
  readonly skippedBy: Readonly<Record<string, number>>;
  /** The first 50 failures of the run (`failed` counts them all). */
  readonly failures: readonly WarmFailure[];
  /** True when the run hit its deadline. */
  readonly deadlineExceeded: boolean;
  /** Set when the run did not happen at all (`locked`: another instance runs this firing). */
  readonly outcome: 'completed' | 'locked' | 'keys-failed';
}

/** State of a warmer's circuit breaker. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** What one warmer reports. */
export interface WarmerStatus {
  readonly name: string;
  readonly running: boolean;
  readonly schedule:
    | { readonly cron: string; readonly timeZone: string; readonly nextRun: string | undefined }
    | undefined;
  readonly refreshAhead: boolean;
  readonly circuit: CircuitState;
  /** Refresh-ahead recomputes so far, and how many failed. */
  readonly refreshes: { readonly done: number; readonly failed: number };
  /** The last runs, newest first (at most 10). */
  readonly lastRuns: readonly RunResult[];
}

/** What the whole warmer reports. */
export interface WarmStatus {
  readonly warmers: readonly WarmerStatus[];
  /** Loads running now, across warmers. */
  readonly inFlight: number;
  readonly stopped: boolean;
  readonly popularity: {
    /** Reads counted since creation. */
    readonly reads: number;
    /** Bytes held by sketches and heaps (bounded whatever the key space). */
    readonly bytes: number;
  };
}

/** Warm-up results, one per warmer run at start-up. */
export interface WarmUpResult {
  readonly runs: readonly RunResult[];
  readonly durationMs: number;
}

/** Options of `warmer.startupTask()`. */
export interface StartupTaskOptions {
  /** Warmers to run. @default every warmer registered with `onStartup` (default true) */
  warmers?: readonly string[];
  /** Fails the startup task after this long (passed to the health registry). @default no limit */
  timeout?: Duration;
}

/** Registered warmers, their runs and the popularity they rely on. Create one with `createWarmer`. */
export interface Warmer {
  /** Registers a warmer; its schedule starts now. Throws `DUPLICATE_WARMER` or `INVALID_OPTIONS`. */
  register<T>(name: string, definition: WarmerDefinition<T>): void;
  /** Runs a warmer now (joins the run in progress, if any). Never rejects for load failures. */
  run(name: string): Promise<RunResult>;
  /** Every warmer's state and last runs. */
  status(): WarmStatus;
  /** One warmer's state, or undefined. */
  statusOf(name: string): WarmerStatus | undefined;
  /**
   * Warms the start-up warmers once; resolves (never rejects) when done. With `startup` given to
   * `createWarmer`, also registers the work as a startup task so the startup probe waits on it.
   */
  startupTask(options?: StartupTaskOptions): Promise<WarmUpResult>;
  /** Counts a read that did not go through the cache (the cache's reads are counted already). */
  recordRead(key: string): void;
  /** The most read keys with their estimated (decayed) counts, highest first. */
  popularKeys(top: number, window?: Duration): Promise<Array<{ key: string; count: number }>>;
  /** Stops schedules and refresh-ahead, waits for loads in flight, and stops counting reads. */
  stop(): Promise<void>;
}

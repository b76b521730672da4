// ---------------------------------------------------------------------------------------------
// Statuses and the health+json answer (draft-inadarope-health-check-06, "Health Check Response
// Format for HTTP APIs", served as application/health+json).
// ---------------------------------------------------------------------------------------------

/** `pass` (healthy), `warn` (healthy with concerns), `fail` (unhealthy). */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/** The three questions Kubernetes asks. */
export type ProbeName = 'liveness' | 'readiness' | 'startup';

/** What a check looks at, which decides where it may run (see `HealthCheck.probes`). */
export type CheckKind = 'dependency' | 'resource' | 'custom';

/** One entry under `checks` in a health answer (one measurement of one component). */
export interface CheckResult {
  status: HealthStatus;
  /** Identifies the component instance (a host, a URL without credentials); shown with `details: 'full'` only. */
  componentId?: string;
  /** `datastore`, `component`, `system` or your own word. */
  componentType?: string;
  observedValue?: number | string | boolean;
  observedUnit?: string;
  /** ISO 8601 time at which the measurement was taken (a cached result keeps its time). */
  time: string;
  /** Why the check warned or failed; shown with `details: 'full'` only. */
  output?: string;
  affectedEndpoints?: readonly string[];
}

/**
 * A probe answer in the health+json format, before the detail level is applied. Reports are shared
 * between probes while nothing changed: treat them as read-only.
 */
export interface HealthReport {
  readonly status: HealthStatus;
  /** Set when the probe fails for a reason of its own (`starting`, `shutting down`). */
  readonly output?: string;
  readonly serviceId?: string;
  readonly description?: string;
  readonly version?: string;
  readonly releaseId?: string;
  /** Keyed `component:measurement` (or `component` alone), one array of results per key. */
  readonly checks: Readonly<Record<string, readonly CheckResult[]>>;
}

/**
 * How much of a report an HTTP caller sees: `full` (everything), `status` (statuses, values and
 * times, but no `output`, `componentId`, version or service fields, which can name hosts and
 * internals), `none` (the top-level status only).
 */
export type DetailLevel = 'full' | 'status' | 'none';

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/** A result a check function reports for one measurement. All fields are optional; status defaults to `pass`. */
export interface CheckMeasurement {
  /** The part after `:` in the key (`responseTime`, `heapUsed`); omit to key the entry by the check name alone. */
  measurement?: string;
  /** @default 'pass' */
  status?: HealthStatus;
  observedValue?: number | string | boolean;
  observedUnit?: string;
  output?: string;
  componentId?: string;
  /** Overrides the check's `componentType` for this measurement. */
  componentType?: string;
  affectedEndpoints?: readonly string[];
}

/**
 * What a check function may return: nothing or `true` (pass), `false` (fail), or one or more
 * measurements. Throwing (or rejecting) is a failure whose message becomes the `output`.
 */
// `void` so that an `async run() { await client.ping(); }` type-checks as a passing check.
// biome-ignore lint/suspicious/noConfusingVoidType: a check returning nothing is a pass
export type CheckOutcome = void | undefined | boolean | CheckMeasurement | readonly CheckMeasurement[];

/** Passed to every check run. */
export interface CheckContext {
  /** Aborted when the check's timeout elapses: pass it to fetch, drivers and timers. */
  readonly signal: AbortSignal;
  /** The timeout this run has, in milliseconds. */
  readonly timeoutMs: number;
}

/** A check function. Synchronous functions are fine; anything slow must honour `signal`. */
export type CheckFunction = (context: CheckContext) => CheckOutcome | Promise<CheckOutcome>;

/** How long results are reused, so a probe storm never reaches the dependency more than once per TTL. */
export interface CacheOptions {
  /** How long a `pass` or `warn` result is reused, in milliseconds. `0` reuses nothing. */
  ttlMs: number;
  /**
   * How long a `fail` result is reused, in milliseconds; shorter, so recovery shows quickly.
   * @default min(ttlMs, 250)
   */
  failureTtlMs?: number;
  /**
   * Once a result expires, keep answering it while the next run is in flight (at most the check's
   * `timeoutMs` past expiry), so probes never wait on a check that has a recent result. A dependency
   * that starts hanging is still reported within TTL + timeout, as without it.
   * @default true
   */
  staleWhileRefresh?: boolean;
}

/** The probes a registered check may take part in (startup waits on startup tasks instead). */
export type CheckProbe = 'liveness' | 'readiness';

/** Options every check accepts, whether written by hand or made by a built-in factory. */
export interface CheckOptions {
  /** Component name: the part before `:` in the answer's keys. Letters, digits, `_`, `.`, `-`. */
  name?: string;
  /**
   * A failing critical check fails its probe (HTTP 503); a failing non-critical one only turns it to `warn`.
   * @default true for `dependency` and `custom` checks, false for `resource` checks
   */
  critical?: boolean;
  /** Milliseconds before a run counts as failed (the run is aborted through its signal). @default the registry's `timeoutMs` */
  timeoutMs?: number;
  /** Result cache for this check; `false` runs it on every probe (concurrent probes still share one run). @default the registry's `cache` */
  cache?: CacheOptions | false;
  /**
   * Which probes run this check. Dependency checks may not take part in liveness: a database outage
   * must not make Kubernetes restart every pod.
   * @default ['readiness']
   */
  probes?: readonly CheckProbe[];
  /** `componentType` reported for the check's measurements. @default per kind: 'datastore', 'system', 'component' */
  componentType?: string;
}

/** A check registered with `health.addCheck` or `createHealth({ checks })`. */
export interface HealthCheck extends CheckOptions {
  name: string;
  kind: CheckKind;
  run: CheckFunction;
  /**
   * Measurement name for results that name none, timeouts and errors included, so a check keeps one
   * key (`postgres:responseTime`) whether it passes or fails. @default none: the key is `name` alone
   */
  measurement?: string;
  /** Releases what the check holds (a monitor, a timer) when it is removed or the registry is closed. */
  close?(): void;
}

/** A warn / fail threshold. Whether "beyond" means above or below is documented on each option. */
export interface Threshold {
  warn?: number;
  fail?: number;
}

// ---------------------------------------------------------------------------------------------
// Startup tasks, heartbeats, holds and shutdown
// ---------------------------------------------------------------------------------------------

export type StartupTaskState = 'pending' | 'done' | 'failed';

/** Work the startup probe waits for (migrations, cache warm-up). */
export interface StartupTask {
  readonly name: string;
  readonly state: StartupTaskState;
  /** Why the task failed (its error, or a `STARTUP_FAILED` timeout error). */
  readonly error: unknown;
  /** Milliseconds the task ran (so far, while pending). */
  readonly durationMs: number;
  /** Settles with the final state; never rejects. */
  readonly settled: Promise<StartupTaskState>;
  /** Marks a manual task done. No effect once the task has settled. */
  complete(): void;
  /** Marks a manual task failed. No effect once the task has settled. */
  fail(error?: unknown): void;
}

export interface StartupTaskOptions {
  /** Fails the task when it has not completed within this many milliseconds. @default no limit */
  timeoutMs?: number;
}

/**
 * The part of a health registry other packages need to register startup work, so they can accept
 * it without depending on @plat/health (for example `@plat/cache-warm`'s `{ startup: health }`).
 */
export interface StartupTaskRegistry {
  startupTask(
    name: string,
    work?: Promise<unknown> | (() => unknown),
    options?: StartupTaskOptions,
  ): StartupTask;
}

/** A liveness signal from a loop that must keep turning (a queue consumer, a scheduler). */
export interface Heartbeat {
  readonly name: string;
  /** Records that the loop is alive. */
  beat(): void;
  /** Stops watching this loop (liveness no longer looks at it). */
  stop(): void;
}

export interface HeartbeatOptions {
  /** Liveness fails when no beat came for this many milliseconds. */
  maxIntervalMs: number;
}

/** Something in progress that shutdown should wait for (a job, a flush). */
export interface ShutdownHold {
  readonly name: string;
  /** Lets shutdown proceed. Safe to call twice. */
  release(): void;
}

export interface ShutdownHookOptions {
  /** Milliseconds the hook may take before shutdown moves on. @default the shutdown's `hookTimeoutMs` */
  timeoutMs?: number;
}

/** Where the service is in its life. */
export type LifecycleState = 'starting' | 'ready' | 'failed' | 'draining' | 'stopping' | 'stopped';

/** The structural part of `http.Server` / `https.Server` that shutdown uses. */
export interface HttpServerLike {
  on(event: 'request', listener: (req: IncomingLike, res: OutgoingLike) => void): unknown;
  prependListener(event: 'request', listener: (req: IncomingLike, res: OutgoingLike) => void): unknown;
  removeListener(event: 'request', listener: (req: IncomingLike, res: OutgoingLike) => void): unknown;
  close(callback?: (error?: Error) => void): unknown;
  closeIdleConnections?(): void;
  closeAllConnections?(): void;
  readonly listening: boolean;
}

/** The parts of an incoming request shutdown looks at. */
export interface IncomingLike {
  readonly url?: string | undefined;
}

/** The parts of a response shutdown uses. */
export interface OutgoingLike {
  readonly headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  once(event: 'close', listener: () => void): unknown;
}

export interface AttachOptions {
  /**
   * Stops accepting connections in the framework's own way (Fastify: `() => app.close()`, which also
   * runs its `onClose` hooks). The promise may wait for in-flight requests; shutdown waits for it
   * only up to the drain deadline. @default `server.close()` and closing idle keep-alive connections
   */
  close?: () => Promise<unknown>;
}

/** What happened during a shutdown. */
export interface ShutdownReport {
  /** The signal or reason that started it. */
  reason: string;
  /** True when requests drained, holds released and every hook finished in time. */
  clean: boolean;
  /** Requests still in flight when the drain deadline passed (their connections were closed). */
  abandonedRequests: number;
  /** Holds still held at the drain deadline. */
  abandonedHolds: readonly string[];
  /** Close hooks that threw or timed out, with the reason. */
  failedHooks: ReadonlyArray<{ name: string; error: string }>;
  durationMs: number;
  /** The exit code used (or that would be used when `exit` is false). */
  exitCode: number;
}

export interface ShutdownOptions {
  /**
   * Signals that start a graceful shutdown, listened for once a server is attached (or when
   * `health.listenForSignals()` is called). A second signal during shutdown exits at once with code 1.
   * @default ['SIGTERM', 'SIGINT']
   */
  signals?: readonly NodeJS.Signals[];
  /**
   * Milliseconds between readiness turning to `fail` and the server closing: long enough for the
   * endpoints controller and load balancers to stop sending traffic. Requests keep being served.
   * @default 5000
   */
  delayMs?: number;
  /** Milliseconds in-flight requests and holds get after the server stops accepting; then their connections are closed. @default 10000 */
  drainTimeoutMs?: number;
  /** Milliseconds each close hook may take. @default 5000 */
  hookTimeoutMs?: number;
  /**
   * Milliseconds the whole shutdown may take; every step is cut short to fit. Keep it below
   * Kubernetes' `terminationGracePeriodSeconds`. @default 25000
   */
  timeoutMs?: number;
  /** Exit the process when shutdown ends (code 0 when clean, 1 otherwise). @default true */
  exit?: boolean;
}

/** Where @plat/health reports what it does; winston loggers and `console` fit. */
export interface HealthLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

/** Options of `eventLoopCheck` and of the event-loop check `createHealth` registers by default. */
export interface EventLoopCheckOptions extends CheckOptions {
  /**
   * Thresholds on the p99 event-loop delay in milliseconds (above is worse).
   * @default { warn: 100 }
   */
  delayMs?: Threshold;
  /** Thresholds on event-loop utilisation from 0 to 1 (above is worse). @default no thresholds (reported only) */
  utilization?: Threshold;
  /** Sampling resolution of the delay histogram in milliseconds. @default 20 */
  resolutionMs?: number;
  /** Length of the window the figures cover, in milliseconds. @default 10000 */
  windowMs?: number;
}

export interface HealthOptions {
  /** Reported as `serviceId` (with `details: 'full'`). */
  serviceId?: string;
  /** Reported as `description` (with `details: 'full'`). */
  description?: string;
  /** Reported as `version` (with `details: 'full'`). */
  version?: string;
  /** Reported as `releaseId` (with `details: 'full'`). */
  releaseId?: string;
  /** Checks to register now (more can be added with `addCheck`). @default [] */
  checks?: readonly HealthCheck[];
  /** Default per-check timeout in milliseconds. @default 1000 */
  timeoutMs?: number;
  /** Default result cache for checks; `false` disables it. @default { ttlMs: 1000, failureTtlMs: 250, staleWhileRefresh: true } */
  cache?: CacheOptions | false;
  /**
   * The built-in event-loop check (liveness and readiness, non-critical, so it warns but never fails
   * a probe unless you give it a `fail` threshold and `critical: true`). `false` leaves it out.
   * @default {}
   */
  eventLoop?: EventLoopCheckOptions | false;
  /** Graceful shutdown settings. @default see ShutdownOptions */
  shutdown?: ShutdownOptions;
  /** Where lifecycle events and failures are reported. @default warnings and errors to `console` */
  logger?: HealthLogger;
  /** Called after every check run (not for cached answers), for metrics. Errors it throws are ignored. */
  onCheck?: (name: string, results: readonly CheckResult[], durationMs: number) => void;
}

/**
 * What a `details` function may look at. A bridge's `HttpExchange` fits, and so does the raw
 * request when probes are served on the server (`health.serveProbes`).
 */
export interface ProbeRequest {
  readonly path: string;
  readonly remoteAddress: string | undefined;
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
}

/** Options of the probe routes (`healthRoutes`, the adapters' `healthProbes`, `health.serveProbes`). */
export interface HealthRoutesOptions {
  /** Probe paths. @default { liveness: '/health/live', readiness: '/health/ready', startup: '/health/startup' } */
  paths?: { liveness?: string; readiness?: string; startup?: string };
  /**
   * How much each caller sees: a level, or a function of the request (see `detailsForToken`).
   * The HTTP status is the same at every level.
   * @default 'status'
   */
  details?: DetailLevel | ((request: ProbeRequest) => DetailLevel);
}

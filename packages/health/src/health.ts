/**
 * The health registry: checks, startup tasks, heartbeats and the shutdown coordinator behind the
 * three probes.
 */
import { performance } from 'node:perf_hooks';
import { type CheckRun, CheckRunner, defaultComponentType, type ResolvedCheck } from './check-runner';
import { eventLoopCheck } from './checks/event-loop';
import { describeError } from './describe-error';
import { HealthError } from './errors';
import { aggregate, buildReport, type ServiceFields } from './report';
import { probeResponder } from './routes';
import { type RequestEmitter, serveProbesOn } from './server-probes';
import { type ResolvedShutdownOptions, SHUTDOWN_DEFAULTS, ShutdownCoordinator } from './shutdown';
import { StartupTasks } from './startup';
import type {
  AttachOptions,
  CacheOptions,
  CheckKind,
  CheckProbe,
  CheckResult,
  HealthCheck,
  HealthLogger,
  HealthOptions,
  HealthReport,
  HealthRoutesOptions,
  HealthStatus,
  Heartbeat,
  HeartbeatOptions,
  HttpServerLike,
  LifecycleState,
  ProbeName,
  ShutdownHold,
  ShutdownHookOptions,
  ShutdownOptions,
  ShutdownReport,
  StartupTask,
  StartupTaskOptions,
  StartupTaskRegistry,
} from './types';

/** A health registry: register checks and startup work, answer probes, shut down gracefully. */
export interface Health extends StartupTaskRegistry {
  /** Where the service is: `starting`, `ready`, `failed` (a startup task failed), `draining`, `stopping`, `stopped`. */
  readonly state: LifecycleState;
  /**
   * Registers a check (a built-in one such as `postgresCheck(db)`, or your own). Returns a function
   * that removes it again.
   */
  addCheck(check: HealthCheck): () => void;
  /** Removes a check by name; false when there was none. */
  removeCheck(name: string): boolean;
  /**
   * Registers work the startup probe waits for, and readiness too while it runs. `work` is a
   * promise, or a function started at once; without it you get a handle to `complete()` or `fail()`
   * yourself. A task that throws, rejects or outlives `timeoutMs` fails the startup probe.
   */
  startupTask(
    name: string,
    work?: Promise<unknown> | (() => unknown),
    options?: StartupTaskOptions,
  ): StartupTask;
  /** Resolves once every startup task is done; rejects with `STARTUP_FAILED` if one failed. */
  started(): Promise<void>;
  /** A liveness signal for a loop that must keep turning: liveness fails when it stops beating. */
  heartbeat(name: string, options: HeartbeatOptions): Heartbeat;
  /** Makes shutdown wait (up to its drain deadline) until released, or until `work` settles. */
  hold(name: string, work?: PromiseLike<unknown>): ShutdownHold;
  /** A close hook run during shutdown, after requests drained; hooks run in registration order. */
  onShutdown(name: string, hook: () => unknown, options?: ShutdownHookOptions): void;
  /**
   * Tracks an HTTP server's requests for graceful shutdown and listens for the shutdown signals.
   * Returns a function that detaches it.
   */
  attach(server: HttpServerLike, options?: AttachOptions): () => void;
  /** Listens for the shutdown signals without attaching a server (workers, consumers). */
  listenForSignals(): void;
  /**
   * Answers the probes on a node http.Server before its framework sees them: no middleware runs for
   * them (auth, rate limits, request logs), and they cost what node's parser costs, not what the
   * framework's router costs. Answers are the same as the adapters' `healthProbes`; other requests
   * reach the framework unchanged. Returns a function that puts things back.
   */
  serveProbes(server: RequestEmitter, options?: HealthRoutesOptions): () => void;
  /** Answers one probe. */
  probe(probe: ProbeName): Promise<HealthReport>;
  /** Starts the graceful shutdown (once); resolves with its report unless the process exits first. */
  shutdown(reason?: string): Promise<ShutdownReport>;
  /** Releases timers, monitors, signal listeners and server listeners without shutting down (tests, hot reload). */
  close(): void;
}

const NAME = /^[A-Za-z0-9][\w.-]{0,99}$/;
const KINDS: ReadonlySet<CheckKind> = new Set(['dependency', 'resource', 'custom']);
const PROBES: ReadonlySet<CheckProbe> = new Set(['liveness', 'readiness']);
const DEFAULT_CACHE: CacheOptions = { ttlMs: 1000, failureTtlMs: 250 };

const consoleLogger: HealthLogger = {
  info() {},
  warn: (message, meta) => console.warn(`[@plat/health] ${message}`, meta ?? ''),
  error: (message, meta) => console.error(`[@plat/health] ${message}`, meta ?? ''),
};

/** A cached readiness or liveness report with what it was built from. */
interface Memo {
  runs: readonly CheckRun[];
  status: HealthStatus;
  output: string | undefined;
  report: HealthReport;
}

/**
 * Creates a health registry. Mount its probes with `healthProbes(health)` from
 * `@plat/health/express|fastify|koa`, and attach your server for graceful shutdown.
 *
 * @example
 * ```ts
 * const health = createHealth({ checks: [postgresCheck(db), redisCheck(redis)] });
 * health.startupTask('migrations', () => migrate(db));
 * health.onShutdown('postgres', () => db.destroy());
 * ```
 */
export function createHealth(options: HealthOptions = {}): Health {
  return new HealthRegistry(options);
}

class HealthRegistry implements Health {
  readonly #service: ServiceFields;
  readonly #timeoutMs: number;
  readonly #cache: CacheOptions | false;
  readonly #logger: HealthLogger;
  readonly #onCheck: HealthOptions['onCheck'];
  readonly #runners = new Map<string, CheckRunner>();
  readonly #closers = new Map<string, () => void>();
  readonly #lastStatus = new Map<string, HealthStatus>();
  readonly #tasks: StartupTasks;
  readonly #shutdown: ShutdownCoordinator;
  #byProbe: Record<CheckProbe, CheckRunner[]> | undefined;
  readonly #memo: Partial<Record<CheckProbe, Memo>> = {};
  #closed = false;

  constructor(options: HealthOptions) {
    this.#service = serviceFields(options);
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs ?? 1000);
    this.#cache = options.cache === undefined ? DEFAULT_CACHE : validateCache('cache', options.cache);
    this.#logger = options.logger ?? consoleLogger;
    this.#onCheck = options.onCheck;
    this.#tasks = new StartupTasks(this.#logger);
    this.#shutdown = new ShutdownCoordinator(resolveShutdown(options.shutdown ?? {}), this.#logger, () => {
      // Readiness answers from the phase; the memo must not serve a report from before it changed.
      delete this.#memo.readiness;
    });
    for (const check of options.checks ?? []) this.addCheck(check);
    if (options.eventLoop !== false) this.addCheck(eventLoopCheck(options.eventLoop ?? {}));
  }

  get state(): LifecycleState {
    const phase = this.#shutdown.phase;
    if (phase !== 'running') return phase;
    if (this.#tasks.failed.length > 0) return 'failed';
    if (this.#tasks.pending.length > 0) return 'starting';
    return 'ready';
  }

  addCheck(check: HealthCheck): () => void {
    const resolved = this.#resolve(check);
    if (this.#runners.has(resolved.name)) {
      throw new HealthError('DUPLICATE_NAME', `A check named "${resolved.name}" is already registered`, {
        details: { name: resolved.name },
      });
    }
    const runner = new CheckRunner(resolved, (run, durationMs) => this.#ran(run, durationMs));
    this.#runners.set(resolved.name, runner);
    if (check.close !== undefined) this.#closers.set(resolved.name, () => check.close?.());
    this.#byProbe = undefined;
    return () => {
      if (this.#runners.get(resolved.name) === runner) this.removeCheck(resolved.name);
    };
  }

  removeCheck(name: string): boolean {
    if (!this.#runners.delete(name)) return false;
    this.#byProbe = undefined;
    this.#lastStatus.delete(name);
    const close = this.#closers.get(name);
    this.#closers.delete(name);
    close?.();
    return true;
  }

  startupTask(
    name: string,
    work?: Promise<unknown> | (() => unknown),
    options: StartupTaskOptions = {},
  ): StartupTask {
    validateName('startup task', name);
    if (this.#shutdown.phase !== 'running') {
      throw new HealthError('SHUTTING_DOWN', `Cannot start startup task "${name}" while shutting down`);
    }
    if (options.timeoutMs !== undefined) positive('startupTask timeoutMs', options.timeoutMs);
    if (work !== undefined && typeof work !== 'function' && !isThenable(work)) {
      throw new HealthError('INVALID_OPTIONS', `startupTask "${name}": work must be a promise or a function`);
    }
    return this.#tasks.add(name, work, options);
  }

  started(): Promise<void> {
    return this.#tasks.whenSettled();
  }

  heartbeat(name: string, options: HeartbeatOptions): Heartbeat {
    const maxIntervalMs = positive('heartbeat maxIntervalMs', options?.maxIntervalMs);
    let last = performance.now();
    const remove = this.addCheck({
      name,
      kind: 'custom',
      probes: ['liveness'],
      critical: true,
      cache: false,
      measurement: 'heartbeat',
      componentType: 'component',
      run() {
        const age = performance.now() - last;
        const late = age > maxIntervalMs;
        return {
          status: late ? 'fail' : 'pass',
          observedValue: Math.round(age),
          observedUnit: 'ms',
          ...(late ? { output: `no heartbeat for ${Math.round(age)} ms (limit ${maxIntervalMs} ms)` } : {}),
        };
      },
    });
    return {
      name,
      beat() {
        last = performance.now();
      },
      stop: remove,
    };
  }

  hold(name: string, work?: PromiseLike<unknown>): ShutdownHold {
    return this.#shutdown.hold(name, work);
  }

  onShutdown(name: string, hook: () => unknown, options: ShutdownHookOptions = {}): void {
    validateName('shutdown hook', name);
    if (typeof hook !== 'function') {
      throw new HealthError('INVALID_OPTIONS', `onShutdown "${name}": hook must be a function`);
    }
    if (options.timeoutMs !== undefined) positive('onShutdown timeoutMs', options.timeoutMs);
    this.#shutdown.onShutdown(name, hook, options);
  }

  attach(server: HttpServerLike, options: AttachOptions = {}): () => void {
    if (typeof server?.prependListener !== 'function' || typeof server.close !== 'function') {
      throw new HealthError('INVALID_OPTIONS', 'attach needs a node http.Server (or https.Server)');
    }
    return this.#shutdown.attach(server, options);
  }

  listenForSignals(): void {
    this.#shutdown.listenForSignals();
  }

  serveProbes(server: RequestEmitter, options: HealthRoutesOptions = {}): () => void {
    return serveProbesOn(server, probeResponder(this, options));
  }

  probe(probe: ProbeName): Promise<HealthReport> {
    try {
      return Promise.resolve(this.evaluate(probe));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The report, synchronously when every result is cached (the hot path of a probe storm). */
  evaluate(probe: ProbeName): HealthReport | Promise<HealthReport> {
    if (probe === 'startup') return this.#startupReport();
    if (!PROBES.has(probe)) {
      throw new HealthError('INVALID_OPTIONS', "probe must be 'liveness', 'readiness' or 'startup'");
    }
    if (probe === 'readiness' && this.#shutdown.phase !== 'running') return this.#report(probe, []);
    const runners = this.#runnersFor(probe);
    const results: Array<CheckRun | Promise<CheckRun>> = new Array(runners.length);
    let waiting = false;
    for (let i = 0; i < runners.length; i++) {
      const result = runners[i]!.result();
      if (result instanceof Promise) waiting = true;
      results[i] = result;
    }
    if (waiting) return Promise.all(results).then((runs) => this.#report(probe, runs));
    return this.#report(probe, results as CheckRun[]);
  }

  shutdown(reason = 'shutdown requested'): Promise<ShutdownReport> {
    return this.#shutdown.shutdown(reason);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#shutdown.dispose();
    for (const close of this.#closers.values()) close();
    this.#closers.clear();
  }

  #report(probe: CheckProbe, runs: readonly CheckRun[]): HealthReport {
    let status = aggregate(runs);
    let output: string | undefined;
    if (probe === 'readiness') {
      const blocked = this.#readinessBlocker();
      if (blocked !== undefined) {
        status = 'fail';
        output = blocked;
        // Checks are not worth running (or showing) once the service is going away.
        if (this.#shutdown.phase !== 'running') runs = [];
      }
    }
    const memo = this.#memo[probe];
    if (memo !== undefined && memo.status === status && memo.output === output && sameRuns(memo.runs, runs)) {
      return memo.report;
    }
    const report = buildReport(this.#service, status, runs, output);
    this.#memo[probe] = { runs, status, output, report };
    return report;
  }

  #readinessBlocker(): string | undefined {
    const phase = this.#shutdown.phase;
    if (phase !== 'running') return 'shutting down';
    const failed = this.#tasks.failed;
    if (failed.length > 0) return `startup failed: ${failed.map((task) => task.name).join(', ')}`;
    const pending = this.#tasks.pending;
    if (pending.length > 0) return `starting: waiting for ${pending.map((task) => task.name).join(', ')}`;
    return undefined;
  }

  #startupReport(): HealthReport {
    const checks: Record<string, CheckResult[]> = {};
    let status: HealthStatus = 'pass';
    const now = new Date().toISOString();
    for (const task of this.#tasks.all()) {
      const result: CheckResult = {
        componentType: 'startupTask',
        observedValue: Math.round(task.durationMs),
        observedUnit: 'ms',
        status: task.state === 'done' ? 'pass' : task.state === 'failed' ? 'fail' : 'warn',
        time: task.settledAt ?? now,
      };
      if (task.state === 'pending') result.output = 'running';
      if (task.state === 'failed') result.output = describeError(task.error);
      if (task.state !== 'done') status = 'fail';
      checks[`${task.name}:duration`] = [result];
    }
    if (status === 'pass') return { status, ...this.#service, checks };
    const failed = this.#tasks.failed;
    const output =
      failed.length > 0
        ? `startup failed: ${failed.map((task) => task.name).join(', ')}`
        : `starting: waiting for ${this.#tasks.pending.map((task) => task.name).join(', ')}`;
    return { status, ...this.#service, output, checks };
  }

  #runnersFor(probe: CheckProbe): readonly CheckRunner[] {
    if (this.#byProbe === undefined) {
      const byProbe: Record<CheckProbe, CheckRunner[]> = { liveness: [], readiness: [] };
      for (const runner of this.#runners.values()) {
        for (const p of runner.check.probes) byProbe[p].push(runner);
      }
      this.#byProbe = byProbe;
    }
    return this.#byProbe[probe];
  }

  #ran(run: CheckRun, durationMs: number): void {
    const previous = this.#lastStatus.get(run.name);
    this.#lastStatus.set(run.name, run.status);
    if (run.status !== previous) {
      const output = run.entries.find(([, result]) => result.output !== undefined)?.[1].output;
      if (run.status === 'fail')
        this.#logger.warn(`check "${run.name}" is failing`, { output, critical: run.critical });
      else if (previous === 'fail')
        this.#logger.info(`check "${run.name}" recovered`, { status: run.status });
    }
    if (this.#onCheck !== undefined) {
      try {
        this.#onCheck(
          run.name,
          run.entries.map(([, result]) => result),
          durationMs,
        );
      } catch {
        // A metrics hook must not break probes.
      }
    }
  }

  #resolve(check: HealthCheck): ResolvedCheck {
    if (typeof check !== 'object' || check === null) {
      throw new HealthError('INVALID_OPTIONS', 'addCheck needs a check object');
    }
    validateName('check', check.name);
    if (!KINDS.has(check.kind)) {
      throw new HealthError(
        'INVALID_OPTIONS',
        `check "${check.name}": kind must be dependency, resource or custom`,
      );
    }
    if (typeof check.run !== 'function') {
      throw new HealthError('INVALID_OPTIONS', `check "${check.name}": run must be a function`);
    }
    if (check.measurement !== undefined && !/^[A-Za-z0-9][\w.-]{0,99}$/.test(check.measurement)) {
      throw new HealthError('INVALID_OPTIONS', `check "${check.name}": measurement must be a plain word`);
    }
    const probes = check.probes ?? ['readiness'];
    if (probes.length === 0 || probes.some((probe) => !PROBES.has(probe))) {
      throw new HealthError(
        'INVALID_OPTIONS',
        `check "${check.name}": probes must be a non-empty list of 'liveness' and 'readiness'`,
      );
    }
    if (check.kind === 'dependency' && probes.includes('liveness')) {
      throw new HealthError(
        'INVALID_OPTIONS',
        `check "${check.name}": a dependency check cannot be part of liveness (a dependency outage would restart every pod); use readiness`,
        { details: { name: check.name } },
      );
    }
    const cache =
      check.cache === undefined ? this.#cache : validateCache(`check "${check.name}" cache`, check.cache);
    return {
      name: check.name,
      kind: check.kind,
      run: check.run,
      critical: check.critical ?? check.kind !== 'resource',
      timeoutMs:
        check.timeoutMs === undefined
          ? this.#timeoutMs
          : positive(`check "${check.name}" timeoutMs`, check.timeoutMs),
      ttlMs: cache === false ? 0 : cache.ttlMs,
      failureTtlMs: cache === false ? 0 : (cache.failureTtlMs ?? Math.min(cache.ttlMs, 250)),
      staleWhileRefresh: cache !== false && cache.staleWhileRefresh !== false,
      probes: new Set(probes),
      componentType: check.componentType ?? defaultComponentType(check.kind),
      key: check.measurement === undefined ? check.name : `${check.name}:${check.measurement}`,
    };
  }
}

function sameRuns(a: readonly CheckRun[], b: readonly CheckRun[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function serviceFields(options: HealthOptions): ServiceFields {
  const fields: ServiceFields = {};
  if (options.serviceId !== undefined) fields.serviceId = options.serviceId;
  if (options.description !== undefined) fields.description = options.description;
  if (options.version !== undefined) fields.version = options.version;
  if (options.releaseId !== undefined) fields.releaseId = options.releaseId;
  return fields;
}

function validateName(what: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new HealthError(
      'INVALID_OPTIONS',
      `${what} name must be 1-100 letters, digits, '_', '.' or '-' (starting with a letter or digit)`,
      { details: { option: 'name' } },
    );
  }
}

function positive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new HealthError('INVALID_OPTIONS', `${option} must be a positive number of milliseconds`, {
      details: { option },
    });
  }
  return value;
}

function nonNegative(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new HealthError('INVALID_OPTIONS', `${option} must be zero or a positive number of milliseconds`, {
      details: { option },
    });
  }
  return value;
}

function validateCache(option: string, cache: CacheOptions | false): CacheOptions | false {
  if (cache === false) return false;
  if (typeof cache !== 'object' || cache === null) {
    throw new HealthError('INVALID_OPTIONS', `${option} must be { ttlMs, failureTtlMs? } or false`);
  }
  nonNegative(`${option}.ttlMs`, cache.ttlMs);
  if (cache.failureTtlMs !== undefined) nonNegative(`${option}.failureTtlMs`, cache.failureTtlMs);
  if (cache.staleWhileRefresh !== undefined && typeof cache.staleWhileRefresh !== 'boolean') {
    throw new HealthError('INVALID_OPTIONS', `${option}.staleWhileRefresh must be true or false`);
  }
  return cache;
}

function resolveShutdown(options: ShutdownOptions): ResolvedShutdownOptions {
  const resolved: ResolvedShutdownOptions = { ...SHUTDOWN_DEFAULTS };
  for (const key of ['delayMs', 'drainTimeoutMs', 'hookTimeoutMs', 'timeoutMs'] as const) {
    const value = options[key];
    if (value !== undefined) resolved[key] = nonNegative(`shutdown.${key}`, value);
  }
  if (options.signals !== undefined) {
    if (!Array.isArray(options.signals) || options.signals.some((signal) => typeof signal !== 'string')) {
      throw new HealthError('INVALID_OPTIONS', 'shutdown.signals must be a list of signal names');
    }
    resolved.signals = options.signals;
  }
  if (options.exit !== undefined) resolved.exit = options.exit;
  return resolved;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

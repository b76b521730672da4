/**
 * Runs one registered check: a bounded run (timeout + abort), a result cache with a shorter life for
 * failures, one shared run for concurrent callers, and never more than one run outstanding, so a
 * dependency that hangs cannot pile up connections however often Kubernetes probes.
 */
import { performance } from 'node:perf_hooks';
import { describeError } from './describe-error';
import { HealthError } from './errors';
import type {
  CheckKind,
  CheckMeasurement,
  CheckOutcome,
  CheckProbe,
  CheckResult,
  HealthCheck,
  HealthStatus,
} from './types';

/** A check with every option resolved. */
export interface ResolvedCheck {
  readonly name: string;
  readonly kind: CheckKind;
  readonly run: HealthCheck['run'];
  readonly critical: boolean;
  readonly timeoutMs: number;
  readonly ttlMs: number;
  readonly failureTtlMs: number;
  /** Answer the last result while a refresh runs, if it expired less than `timeoutMs` ago. */
  readonly staleWhileRefresh: boolean;
  readonly probes: ReadonlySet<CheckProbe>;
  readonly componentType: string;
  /** Key of results that name no measurement (and of timeouts and errors): `name` or `name:measurement`. */
  readonly key: string;
}

/** The outcome of one run of one check, shared by every probe answer built from it. */
export interface CheckRun {
  readonly name: string;
  /** The worst status among the run's measurements. */
  readonly status: HealthStatus;
  readonly critical: boolean;
  readonly entries: ReadonlyArray<readonly [key: string, result: CheckResult]>;
}

const DEFAULT_COMPONENT_TYPE: Record<CheckKind, string> = {
  dependency: 'component',
  resource: 'system',
  custom: 'component',
};

export function defaultComponentType(kind: CheckKind): string {
  return DEFAULT_COMPONENT_TYPE[kind];
}

const RANK: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };

export function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  return RANK[b] > RANK[a] ? b : a;
}

export class CheckRunner {
  readonly check: ResolvedCheck;
  #cached: CheckRun | undefined;
  #expiresAt = 0;
  #inflight: Promise<CheckRun> | undefined;
  /** performance.now() when the user's function was last started and has not settled yet. */
  #outstandingSince: number | undefined;
  #runs = 0;
  readonly #onRun: ((run: CheckRun, durationMs: number) => void) | undefined;

  constructor(check: ResolvedCheck, onRun?: (run: CheckRun, durationMs: number) => void) {
    this.check = check;
    this.#onRun = onRun;
  }

  /** How many times the check function has been started (cached answers do not count). */
  get runs(): number {
    return this.#runs;
  }

  /** A fresh cached result, without starting anything. */
  cached(now = performance.now()): CheckRun | undefined {
    return this.#cached !== undefined && now < this.#expiresAt ? this.#cached : undefined;
  }

  /** The current result: cached when fresh, the run in progress when there is one, else a new run. */
  result(): CheckRun | Promise<CheckRun> {
    const now = performance.now();
    const fresh = this.cached(now);
    if (fresh !== undefined) return fresh;
    // A result that expired moments ago is still a fair answer while its replacement is measured: a
    // probe storm then never waits on the check. The run is bounded by timeoutMs, so is the staleness.
    const stale =
      this.check.staleWhileRefresh &&
      this.#cached !== undefined &&
      now < this.#expiresAt + this.check.timeoutMs
        ? this.#cached
        : undefined;
    if (this.#inflight !== undefined) return stale ?? this.#inflight;
    if (this.#outstandingSince !== undefined) {
      // The previous run timed out but the function has still not returned (a blackholed socket, a
      // paused server). Starting another would stack a second stuck query on the pool: report instead.
      const waited = Math.round(now - this.#outstandingSince);
      return this.#store(
        failure(
          this.check,
          `previous run has not returned after ${waited} ms (timeout ${this.check.timeoutMs} ms)`,
        ),
        now,
      );
    }
    const inflight = this.#start(now);
    this.#inflight = inflight;
    return stale ?? inflight;
  }

  /** Forgets the cached result, so the next probe runs the check. */
  invalidate(): void {
    this.#cached = undefined;
    this.#expiresAt = 0;
  }

  async #start(startedAt: number): Promise<CheckRun> {
    const { check } = this;
    this.#runs++;
    this.#outstandingSince = startedAt;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CheckRun>((resolve) => {
      timer = setTimeout(() => {
        const message = `timed out after ${check.timeoutMs} ms`;
        // The reason reaches check code that awaits something honouring the signal.
        controller.abort(
          new HealthError('CHECK_TIMEOUT', `Check "${check.name}" ${message}`, {
            details: { check: check.name, timeoutMs: check.timeoutMs },
          }),
        );
        resolve(failure(check, message));
      }, check.timeoutMs);
    });
    let work: Promise<CheckOutcome>;
    try {
      work = Promise.resolve(check.run({ signal: controller.signal, timeoutMs: check.timeoutMs }));
    } catch (error) {
      work = Promise.reject(error);
    }
    const finished = work.then(
      (outcome) => toRun(check, outcome),
      (error: unknown) => failure(check, describeError(error)),
    );
    // Only this marks the function as returned: a timed-out run stays outstanding until it does.
    void finished.then(() => {
      this.#outstandingSince = undefined;
    });
    try {
      const run = await Promise.race([finished, timedOut]);
      const done = performance.now();
      this.#store(run, done);
      if (this.#onRun !== undefined) {
        try {
          this.#onRun(run, done - startedAt);
        } catch {
          // A metrics hook must not break probes.
        }
      }
      return run;
    } finally {
      clearTimeout(timer);
      this.#inflight = undefined;
    }
  }

  #store(run: CheckRun, now: number): CheckRun {
    const ttl = run.status === 'fail' ? this.check.failureTtlMs : this.check.ttlMs;
    this.#cached = run;
    this.#expiresAt = now + ttl;
    return run;
  }
}

function toRun(check: ResolvedCheck, outcome: CheckOutcome): CheckRun {
  if (outcome === undefined || outcome === true) return single(check, 'pass');
  if (outcome === false) return single(check, 'fail', 'check reported failure');
  const measurements: readonly CheckMeasurement[] = Array.isArray(outcome)
    ? (outcome as readonly CheckMeasurement[])
    : [outcome as CheckMeasurement];
  if (measurements.length === 0) return single(check, 'pass');
  const time = new Date().toISOString();
  let status: HealthStatus = 'pass';
  const entries: Array<readonly [string, CheckResult]> = [];
  for (const m of measurements) {
    const result = toResult(check, m, time);
    status = worst(status, result.status);
    entries.push([m.measurement ? `${check.name}:${m.measurement}` : check.key, result]);
  }
  return { name: check.name, status, critical: check.critical, entries };
}

function toResult(check: ResolvedCheck, m: CheckMeasurement, time: string): CheckResult {
  // Built field by field, in the order the health+json draft lists them, leaving out what is unset.
  const result = {} as CheckResult;
  if (m.componentId !== undefined) result.componentId = m.componentId;
  result.componentType = m.componentType ?? check.componentType;
  if (m.observedValue !== undefined) result.observedValue = m.observedValue;
  if (m.observedUnit !== undefined) result.observedUnit = m.observedUnit;
  result.status = m.status === 'warn' || m.status === 'fail' ? m.status : 'pass';
  if (m.affectedEndpoints !== undefined) result.affectedEndpoints = m.affectedEndpoints;
  result.time = time;
  if (m.output !== undefined && m.output !== '') result.output = m.output;
  return result;
}

function single(check: ResolvedCheck, status: HealthStatus, output?: string): CheckRun {
  const measurement: CheckMeasurement = output === undefined ? { status } : { status, output };
  const time = new Date().toISOString();
  return {
    name: check.name,
    status,
    critical: check.critical,
    entries: [[check.key, toResult(check, measurement, time)]],
  };
}

/** A failed run under the check's own key. */
export function failure(check: ResolvedCheck, output: string): CheckRun {
  return single(check, 'fail', output);
}

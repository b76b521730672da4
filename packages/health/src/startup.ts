/**
 * Startup tasks: work the startup probe waits for (migrations, cache warm-up). A task is a promise,
 * a function started at once, or a manual handle completed by its owner.
 */
import { performance } from 'node:perf_hooks';
import { describeError } from './describe-error';
import { HealthError } from './errors';
import type { HealthLogger, StartupTask, StartupTaskOptions, StartupTaskState } from './types';

class Task implements StartupTask {
  readonly name: string;
  state: StartupTaskState = 'pending';
  error: unknown;
  readonly settled: Promise<StartupTaskState>;
  readonly #startedAt = performance.now();
  #endedAt: number | undefined;
  /** ISO time the task settled: the `time` of its entry in startup answers. */
  settledAt: string | undefined;
  #resolve!: (state: StartupTaskState) => void;
  #timer: NodeJS.Timeout | undefined;
  readonly #onSettle: (task: Task) => void;

  constructor(name: string, onSettle: (task: Task) => void) {
    this.name = name;
    this.#onSettle = onSettle;
    this.settled = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get durationMs(): number {
    return (this.#endedAt ?? performance.now()) - this.#startedAt;
  }

  deadline(timeoutMs: number): void {
    this.#timer = setTimeout(() => {
      this.fail(
        new HealthError(
          'STARTUP_FAILED',
          `Startup task "${this.name}" did not complete within ${timeoutMs} ms`,
          {
            details: { task: this.name, timeoutMs },
          },
        ),
      );
    }, timeoutMs);
    // A pending deadline alone must not keep a finished process alive.
    this.#timer.unref();
  }

  complete(): void {
    this.#settle('done', undefined);
  }

  fail(error: unknown = new Error('failed')): void {
    this.#settle('failed', error);
  }

  #settle(state: StartupTaskState, error: unknown): void {
    if (this.state !== 'pending') return;
    this.state = state;
    this.error = error;
    this.#endedAt = performance.now();
    this.settledAt = new Date().toISOString();
    clearTimeout(this.#timer);
    this.#resolve(state);
    this.#onSettle(this);
  }
}

/** The startup tasks of one registry. */
export class StartupTasks {
  readonly #tasks = new Map<string, Task>();
  readonly #logger: HealthLogger;
  #waiters: Array<() => void> = [];

  constructor(logger: HealthLogger) {
    this.#logger = logger;
  }

  add(
    name: string,
    work: Promise<unknown> | (() => unknown) | undefined,
    options: StartupTaskOptions,
  ): StartupTask {
    if (this.#tasks.has(name)) {
      throw new HealthError('DUPLICATE_NAME', `A startup task named "${name}" is already registered`, {
        details: { name },
      });
    }
    const task = new Task(name, (settled) => this.#settled(settled));
    this.#tasks.set(name, task);
    if (options.timeoutMs !== undefined) task.deadline(options.timeoutMs);
    if (work !== undefined) {
      let running: unknown;
      try {
        running = typeof work === 'function' ? work() : work;
      } catch (error) {
        task.fail(error);
        return task;
      }
      if (isThenable(running)) {
        Promise.resolve(running).then(
          () => task.complete(),
          (error: unknown) => task.fail(error),
        );
      } else {
        task.complete();
      }
    }
    return task;
  }

  all(): readonly Task[] {
    return [...this.#tasks.values()];
  }

  get pending(): readonly Task[] {
    return this.all().filter((task) => task.state === 'pending');
  }

  get failed(): readonly Task[] {
    return this.all().filter((task) => task.state === 'failed');
  }

  /** Resolves once no task is pending; rejects with STARTUP_FAILED when one failed. */
  async whenSettled(): Promise<void> {
    while (this.pending.length > 0) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    const failed = this.failed;
    if (failed.length > 0) {
      const names = failed.map((task) => task.name);
      throw new HealthError('STARTUP_FAILED', `Startup failed: ${names.join(', ')}`, {
        details: { tasks: names },
        cause: failed[0]!.error,
      });
    }
  }

  #settled(task: Task): void {
    const durationMs = Math.round(task.durationMs);
    if (task.state === 'done') this.#logger.info(`startup task "${task.name}" done`, { durationMs });
    else
      this.#logger.error(`startup task "${task.name}" failed`, {
        durationMs,
        error: describeError(task.error),
      });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

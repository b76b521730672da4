/**
 * Graceful shutdown: readiness fails at once, traffic is still served for `delayMs` while load
 * balancers catch up, then the servers stop accepting, in-flight requests and holds get until the
 * drain deadline, close hooks run in order, and the process exits.
 */
import { performance } from 'node:perf_hooks';
import { describeError } from './describe-error';
import { HealthError } from './errors';
import type {
  AttachOptions,
  HealthLogger,
  HttpServerLike,
  IncomingLike,
  OutgoingLike,
  ShutdownHold,
  ShutdownHookOptions,
  ShutdownOptions,
  ShutdownReport,
} from './types';

export type ShutdownPhase = 'running' | 'draining' | 'stopping' | 'stopped';

export type ResolvedShutdownOptions = Required<ShutdownOptions>;

export const SHUTDOWN_DEFAULTS: ResolvedShutdownOptions = {
  signals: ['SIGTERM', 'SIGINT'],
  delayMs: 5000,
  drainTimeoutMs: 10_000,
  hookTimeoutMs: 5000,
  timeoutMs: 25_000,
  exit: true,
};

interface Attached {
  server: HttpServerLike;
  close: (() => Promise<unknown>) | undefined;
  listener: (req: IncomingLike, res: OutgoingLike) => void;
}

interface Hook {
  name: string;
  run: () => unknown;
  timeoutMs: number;
}

export class ShutdownCoordinator {
  phase: ShutdownPhase = 'running';
  readonly #options: ResolvedShutdownOptions;
  readonly #logger: HealthLogger;
  readonly #onPhase: (phase: ShutdownPhase) => void;
  readonly #servers: Attached[] = [];
  readonly #inflight = new Set<OutgoingLike>();
  readonly #holds = new Map<symbol, string>();
  readonly #hooks: Hook[] = [];
  #idleWaiters: Array<() => void> = [];
  #signalHandlers: Array<[NodeJS.Signals, () => void]> = [];
  #running: Promise<ShutdownReport> | undefined;
  /** Timers of the sequence, cleared by dispose() so a closed registry holds nothing open. */
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    options: ResolvedShutdownOptions,
    logger: HealthLogger,
    onPhase: (phase: ShutdownPhase) => void,
  ) {
    this.#options = options;
    this.#logger = logger;
    this.#onPhase = onPhase;
  }

  get inflightRequests(): number {
    return this.#inflight.size;
  }

  attach(server: HttpServerLike, options: AttachOptions = {}): () => void {
    if (this.phase !== 'running') {
      throw new HealthError('SHUTTING_DOWN', 'Cannot attach a server while shutting down');
    }
    const existing = this.#servers.find((attached) => attached.server === server);
    if (existing !== undefined) return () => this.#detach(existing);
    const listener = (_req: IncomingLike, res: OutgoingLike) => {
      // Once shutdown has begun, keep-alive clients are told to reconnect (to another pod).
      if (this.phase !== 'running' && !res.headersSent) res.setHeader('connection', 'close');
      this.#inflight.add(res);
      res.once('close', () => {
        this.#inflight.delete(res);
        this.#wakeIfIdle();
      });
    };
    // First in line, so the header is set before the framework can answer synchronously.
    server.prependListener('request', listener);
    const attached: Attached = { server, close: options.close, listener };
    this.#servers.push(attached);
    this.listenForSignals();
    return () => this.#detach(attached);
  }

  #detach(attached: Attached): void {
    attached.server.removeListener('request', attached.listener);
    const index = this.#servers.indexOf(attached);
    if (index !== -1) this.#servers.splice(index, 1);
  }

  hold(name: string, work?: PromiseLike<unknown>): ShutdownHold {
    if (this.phase === 'stopped') {
      throw new HealthError('SHUTTING_DOWN', `Cannot hold shutdown for "${name}": the service has stopped`);
    }
    const id = Symbol(name);
    this.#holds.set(id, name);
    const release = () => {
      if (this.#holds.delete(id)) this.#wakeIfIdle();
    };
    if (work !== undefined) Promise.resolve(work).then(release, release);
    return { name, release };
  }

  onShutdown(name: string, run: () => unknown, options: ShutdownHookOptions = {}): void {
    if (this.#hooks.some((hook) => hook.name === name)) {
      throw new HealthError('DUPLICATE_NAME', `A shutdown hook named "${name}" is already registered`, {
        details: { name },
      });
    }
    this.#hooks.push({ name, run, timeoutMs: options.timeoutMs ?? this.#options.hookTimeoutMs });
  }

  listenForSignals(): void {
    if (this.#signalHandlers.length > 0) return;
    for (const signal of this.#options.signals) {
      const handler = () => {
        if (this.#running === undefined) {
          void this.shutdown(signal);
          return;
        }
        this.#logger.warn(`${signal} received again during shutdown`, {
          exiting: this.#options.exit,
        });
        if (this.#options.exit) process.exit(1);
      };
      process.on(signal, handler);
      this.#signalHandlers.push([signal, handler]);
    }
  }

  /** Starts the shutdown (once; later calls return the same report). */
  shutdown(reason: string): Promise<ShutdownReport> {
    this.#running ??= this.#run(reason);
    return this.#running;
  }

  /** Removes signal listeners and detaches from servers, without shutting anything down (a shutdown in progress is abandoned). */
  dispose(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const [signal, handler] of this.#signalHandlers) process.removeListener(signal, handler);
    this.#signalHandlers = [];
    for (const { server, listener } of this.#servers.splice(0)) server.removeListener('request', listener);
  }

  async #run(reason: string): Promise<ShutdownReport> {
    try {
      return await this.#sequence(reason);
    } catch (error) {
      // Nothing above should throw; if something does, the process must still go away.
      this.#logger.error('shutdown failed', { error: describeError(error) });
      this.#setPhase('stopped');
      if (this.#options.exit) process.exit(1);
      throw error;
    }
  }

  async #sequence(reason: string): Promise<ShutdownReport> {
    const options = this.#options;
    const started = performance.now();
    const deadline = started + options.timeoutMs;
    const remaining = () => deadline - performance.now();
    // Whatever happens below, the process must not outlive the overall deadline.
    const guard = options.exit
      ? setTimeout(() => {
          this.#logger.error('shutdown overran its deadline; exiting', { timeoutMs: options.timeoutMs });
          process.exit(1);
        }, options.timeoutMs + 1000)
      : undefined;
    guard?.unref();

    this.#setPhase('draining');
    for (const res of this.#inflight) if (!res.headersSent) res.setHeader('connection', 'close');
    this.#logger.info('shutdown started: readiness is failing', {
      reason,
      delayMs: options.delayMs,
      inflightRequests: this.#inflight.size,
    });
    await this.#sleep(Math.min(options.delayMs, remaining()));

    this.#setPhase('stopping');
    const closing = this.#servers.map((attached) => stopAccepting(attached));
    const drainUntil = performance.now() + Math.max(0, Math.min(options.drainTimeoutMs, remaining()));
    this.#logger.info('stopped accepting connections; draining', {
      inflightRequests: this.#inflight.size,
      holds: [...this.#holds.values()],
    });
    const idle = await this.#waitIdle(drainUntil - performance.now());
    const abandonedRequests = this.#inflight.size;
    const abandonedHolds = [...this.#holds.values()];
    if (!idle) {
      this.#logger.warn('drain deadline passed; closing remaining connections', {
        abandonedRequests,
        abandonedHolds,
      });
    }
    for (const { server } of this.#servers) {
      if (abandonedRequests > 0) server.closeAllConnections?.();
      else server.closeIdleConnections?.();
    }
    // Fastify's close() resolves after its onClose hooks; give it what is left of the drain window.
    await Promise.race([
      Promise.allSettled(closing),
      this.#sleep(Math.max(drainUntil - performance.now(), 50)),
    ]);

    const failedHooks: Array<{ name: string; error: string }> = [];
    for (const hook of this.#hooks) {
      const budget = Math.min(hook.timeoutMs, remaining());
      if (budget <= 0) {
        failedHooks.push({ name: hook.name, error: 'skipped: shutdown deadline passed' });
        continue;
      }
      const error = await runHook(hook, budget);
      if (error !== undefined) {
        failedHooks.push({ name: hook.name, error });
        this.#logger.error(`shutdown hook "${hook.name}" failed`, { error });
      }
    }

    this.#setPhase('stopped');
    const clean = idle && failedHooks.length === 0;
    const report: ShutdownReport = {
      reason,
      clean,
      abandonedRequests,
      abandonedHolds,
      failedHooks,
      durationMs: Math.round(performance.now() - started),
      exitCode: clean ? 0 : 1,
    };
    this.#logger.info('shutdown complete', { ...report });
    clearTimeout(guard);
    this.dispose();
    if (options.exit) process.exit(report.exitCode);
    return report;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.#timers.delete(timer);
          resolve();
        },
        Math.max(0, ms),
      );
      this.#timers.add(timer);
    });
  }

  #setPhase(phase: ShutdownPhase): void {
    this.phase = phase;
    this.#onPhase(phase);
  }

  #isIdle(): boolean {
    return this.#inflight.size === 0 && this.#holds.size === 0;
  }

  #wakeIfIdle(): void {
    if (!this.#isIdle() || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** True when requests and holds finished within `ms`. */
  async #waitIdle(ms: number): Promise<boolean> {
    if (this.#isIdle()) return true;
    if (ms <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const idle = await Promise.race([
      new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
        this.#timers.add(timer);
      }),
    ]);
    clearTimeout(timer);
    if (timer !== undefined) this.#timers.delete(timer);
    return idle || this.#isIdle();
  }
}

function stopAccepting({ server, close }: Attached): Promise<unknown> {
  if (close !== undefined) {
    try {
      return Promise.resolve(close());
    } catch (error) {
      return Promise.reject(error);
    }
  }
  if (!server.listening) return Promise.resolve();
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Node 19+ does this in close(); older servers and custom ones may not.
    server.closeIdleConnections?.();
  });
}

async function runHook(hook: Hook, budgetMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`timed out after ${Math.round(budgetMs)} ms`), budgetMs);
    });
    const ran = (async () => {
      await hook.run();
      return undefined;
    })();
    return await Promise.race([ran, timedOut]);
  } catch (error) {
    return describeError(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Concurrency control: a bounded `Promise.all` on p-limit, and a bulkhead that admits a fixed number
 * of concurrent work items, queues a bounded number more and sheds the rest with a typed error —
 * so a burst costs some callers a fast 503 instead of costing every caller a timeout.
 */
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { DbPerfError } from './errors';
import type { BulkheadOptions, BulkheadRunOptions, BulkheadStats } from './types';

/**
 * Runs `tasks` with at most `concurrency` of them in flight and resolves with their results in
 * order. On the first failure it rejects and starts no further task.
 *
 * @example
 * ```ts
 * const rows = await gatherWithConcurrency(4, ids.map((id) => () => fetchReport(id)));
 * ```
 */
export async function gatherWithConcurrency<T>(
  concurrency: number,
  tasks: Iterable<() => Promise<T> | T>,
): Promise<T[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new DbPerfError(
      'INVALID_OPTIONS',
      `concurrency must be an integer >= 1 (got ${String(concurrency)})`,
    );
  }
  const limit = pLimit({ concurrency, rejectOnClear: true });
  const running = Array.from(tasks, (task) =>
    limit(task).catch((error: unknown) => {
      limit.clearQueue();
      throw error;
    }),
  );
  return Promise.all(running);
}

/** A concurrency limiter with a bounded queue and load shedding. */
export interface Bulkhead {
  readonly name: string;
  /**
   * Runs `fn` once a slot is free. Rejects with `OVERLOADED` (and never runs `fn`) when the queue is
   * full or the wait exceeds `queueTimeoutMs`.
   */
  run<T>(fn: () => Promise<T> | T, options?: BulkheadRunOptions): Promise<T>;
  /** Waits for a slot and returns the function that frees it (call it exactly once). */
  acquire(options?: BulkheadRunOptions): Promise<() => void>;
  stats(): BulkheadStats;
}

interface Waiter {
  resolve(release: () => void): void;
  reject(error: unknown): void;
  cleanup(): void;
}

/**
 * Creates a bulkhead: `concurrency` work items at once, up to `maxQueue` waiting, the rest rejected
 * at once with a `DbPerfError` whose code is `OVERLOADED` and whose `details.retryAfterSeconds`
 * estimates when a slot frees up. Put it in front of a connection pool.
 *
 * @example
 * ```ts
 * const bulkhead = createBulkhead({ concurrency: 10, maxQueue: 20, queueTimeoutMs: 500 });
 * const report = await bulkhead.run(() => db.selectFrom('orders').selectAll().execute());
 * ```
 */
export function createBulkhead(options: BulkheadOptions): Bulkhead {
  const { concurrency } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new DbPerfError(
      'INVALID_OPTIONS',
      `concurrency must be an integer >= 1 (got ${String(concurrency)})`,
    );
  }
  const maxQueue = options.maxQueue ?? concurrency * 2;
  if (!Number.isInteger(maxQueue) || maxQueue < 0) {
    throw new DbPerfError('INVALID_OPTIONS', `maxQueue must be an integer >= 0 (got ${String(maxQueue)})`);
  }
  const queueTimeoutMs = options.queueTimeoutMs ?? 2000;
  if (!(Number.isFinite(queueTimeoutMs) && queueTimeoutMs > 0)) {
    throw new DbPerfError(
      'INVALID_OPTIONS',
      `queueTimeoutMs must be a number > 0 (got ${String(queueTimeoutMs)})`,
    );
  }
  const name = options.name ?? 'db';
  const queue: Waiter[] = [];
  let active = 0;
  let admitted = 0;
  let completed = 0;
  let rejected = 0;
  let timedOut = 0;
  // Exponentially weighted mean service time: recent load matters more than the start of the day.
  let meanServiceMs = 0;

  const stats = (): BulkheadStats => ({
    name,
    concurrency,
    maxQueue,
    active,
    queued: queue.length,
    admitted,
    completed,
    rejected,
    timedOut,
    meanServiceMs: Math.round(meanServiceMs * 1000) / 1000,
  });

  const overloaded = (reason: 'queue-full' | 'queue-timeout'): DbPerfError => {
    // Time for the queue ahead to drain through the slots, at the recent service time; at least 1 s.
    const drainMs = (meanServiceMs * (queue.length + 1)) / concurrency;
    const retryAfterSeconds = Math.max(1, Math.ceil(drainMs / 1000));
    return new DbPerfError(
      'OVERLOADED',
      reason === 'queue-full'
        ? `${name} is overloaded: ${active} running and ${queue.length} queued (max ${maxQueue})`
        : `${name} is overloaded: no slot freed within ${queueTimeoutMs} ms`,
      {
        details: {
          bulkhead: name,
          reason,
          active,
          queued: queue.length,
          concurrency,
          maxQueue,
          retryAfterSeconds,
        },
      },
    );
  };

  const grant = (): (() => void) => {
    active++;
    admitted++;
    const started = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const took = performance.now() - started;
      meanServiceMs = completed === 0 ? took : meanServiceMs * 0.9 + took * 0.1;
      active--;
      completed++;
      const next = queue.shift();
      if (next !== undefined) {
        next.cleanup();
        next.resolve(grant());
      }
    };
  };

  const acquire = (runOptions: BulkheadRunOptions = {}): Promise<() => void> => {
    const { signal } = runOptions;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (active < concurrency && queue.length === 0) return Promise.resolve(grant());
    if (queue.length >= maxQueue) {
      rejected++;
      return Promise.reject(overloaded('queue-full'));
    }
    return new Promise((resolve, reject) => {
      const remove = () => {
        const index = queue.indexOf(waiter);
        if (index !== -1) queue.splice(index, 1);
      };
      const timer = setTimeout(() => {
        remove();
        waiter.cleanup();
        timedOut++;
        reject(overloaded('queue-timeout'));
      }, queueTimeoutMs);
      const onAbort = () => {
        remove();
        waiter.cleanup();
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
    });
  };

  return {
    name,
    acquire,
    stats,
    async run(fn, runOptions) {
      const release = await acquire(runOptions);
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}

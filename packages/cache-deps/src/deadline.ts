/**
 * Time limits for store calls. One coarse timer per store checks every pending call instead of a
 * timer per call, which keeps the cost of a GET close to the bare command.
 */

interface Pending {
  readonly at: number;
  readonly fail: (error?: Error) => void;
}

export class Deadlines {
  readonly #pending = new Set<Pending>();
  #timer: NodeJS.Timeout | undefined;
  readonly #tick: number;

  constructor(private readonly ms: number) {
    this.#tick = Math.max(5, Math.min(100, Math.round(ms / 10)));
  }

  /** `promise`, or a rejection with `timeout()` once `ms` have passed (at most one tick late). */
  run<T>(promise: Promise<T>, timeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        at: performance.now() + this.ms,
        fail: (error) => reject(error ?? timeout()),
      };
      this.#pending.add(pending);
      if (this.#timer === undefined) {
        this.#timer = setInterval(() => this.#sweep(), this.#tick);
        this.#timer.unref();
      }
      promise.then(
        (value) => {
          this.#pending.delete(pending);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(pending);
          reject(error);
        },
      );
    });
  }

  #sweep(): void {
    const now = performance.now();
    for (const pending of this.#pending) {
      if (pending.at <= now) {
        this.#pending.delete(pending);
        pending.fail();
      }
    }
    if (this.#pending.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Fails every pending call now with `error` (the store is closing). */
  failAll(error: Error): void {
    for (const pending of this.#pending) pending.fail(error);
    this.#pending.clear();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

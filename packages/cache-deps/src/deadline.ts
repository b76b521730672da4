/**
 * Time limits for store calls. Every call of one store has the same limit, so deadlines arrive in
 * the order calls were made: a FIFO queue and one coarse timer check them all, instead of a timer
 * per call. This keeps the cost of a GET close to the bare command.
 */

interface Pending {
  readonly at: number;
  done: boolean;
  readonly reject: (error: unknown) => void;
}

export class Deadlines {
  #queue: Pending[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #tick: number;

  /** `timeout()` makes the error a late call is rejected with. */
  constructor(
    private readonly ms: number,
    private readonly timeout: () => Error,
  ) {
    this.#tick = Math.max(5, Math.min(100, Math.round(ms / 10)));
  }

  /**
   * `promise`, or a rejection with `timeout()` once `ms` have passed (at most one tick late). A
   * rejection of `promise` itself goes through `mapError`.
   */
  run<T>(promise: Promise<T>, mapError?: (error: unknown) => unknown): Promise<T> {
    // No closure besides the executor and the two handlers: this runs for every store call.
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { at: performance.now() + this.ms, done: false, reject };
      this.#queue.push(pending);
      if (this.#timer === undefined) {
        this.#timer = setInterval(() => this.#sweep(), this.#tick);
        this.#timer.unref();
      }
      promise.then(
        (value) => {
          pending.done = true;
          resolve(value);
        },
        (error: unknown) => {
          pending.done = true;
          reject(mapError === undefined ? error : mapError(error));
        },
      );
    });
  }

  #sweep(): void {
    const now = performance.now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const pending = queue[this.#head]!;
      if (!pending.done) {
        if (pending.at > now) break;
        pending.done = true;
        pending.reject(this.timeout());
      }
      this.#head++;
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
      if (this.#timer !== undefined) clearInterval(this.#timer);
      this.#timer = undefined;
    } else if (this.#head > 1024) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Fails every pending call now with `error` (the store is closing). */
  failAll(error: Error): void {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const pending = this.#queue[i]!;
      if (!pending.done) {
        pending.done = true;
        pending.reject(error);
      }
    }
    this.#queue = [];
    this.#head = 0;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

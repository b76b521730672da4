/**
 * The subscription loop: read a batch after the durable checkpoint, deliver it, move the checkpoint
 * (compare-and-set), then either read on or wait for a wake-up or the poll interval.
 * Delivery happens before the checkpoint moves, so a crash re-delivers at most the batch in flight:
 * at-least-once.
 */
import type { Checkpoints } from './checkpoints';
import { compareCursors } from './cursor';
import { EventStoreError } from './errors';
import type { LogPage, ReadAllOptions, RecordedEvent, Subscription } from './types';
import type { Wakeups } from './wakeups';

/** What a subscription needs from its store. */
export interface SubscriptionHost {
  readAll(options: ReadAllOptions): Promise<LogPage>;
  /** A cursor at or beyond every transaction that has finished now. */
  headCursor(): Promise<string>;
  /** The cursor for a new subscription's `from`. */
  initialCursor(from: string): Promise<string>;
  readonly checkpoints: Checkpoints;
  readonly wakeups: Wakeups;
  forget(subscription: SubscriptionRunner): void;
}

/** Delivers one batch and moves the checkpoint; returns the new revision, or undefined on conflict. */
export type Deliver = (
  events: RecordedEvent[],
  next: string,
  revision: number,
) => Promise<number | undefined>;

export interface RunnerSettings {
  from: string;
  batchSize: number;
  types: readonly string[] | undefined;
  streamPrefix: string | undefined;
  pollIntervalMs: number;
  maxRetries: number;
  onError: ((error: unknown) => void) | undefined;
}

interface Waiter {
  head: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MAX_BACKOFF_MS = 30_000;

export class SubscriptionRunner implements Subscription {
  readonly done: Promise<void>;
  #cursor = '0:0';
  #revision: number | undefined;
  #dirty = false;
  #stopped = false;
  #poked = false;
  #wake: (() => void) | undefined;
  readonly #waiters: Waiter[] = [];

  constructor(
    private readonly host: SubscriptionHost,
    readonly name: string,
    private readonly settings: RunnerSettings,
    private readonly deliver: Deliver,
  ) {
    this.done = this.#run();
    // `done` is for callers who want it; an unobserved failure must not crash the process.
    this.done.catch(() => {});
  }

  get checkpoint(): string {
    return this.#cursor;
  }

  async caughtUp(): Promise<void> {
    if (this.#stopped) throw new EventStoreError('INVALID_ARGUMENT', `Subscription ${this.name} is stopped`);
    const head = await this.host.headCursor();
    if (this.#revision !== undefined && compareCursors(this.#cursor, head) >= 0) return;
    await new Promise<void>((resolve, reject) => {
      this.#waiters.push({ head, resolve, reject });
      this.#poke();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#poke();
    await this.done.catch(() => {});
  }

  #poke(): void {
    this.#poked = true;
    this.#wake?.();
  }

  #sleep(ms: number): Promise<void> {
    if (this.#poked || this.#stopped) {
      this.#poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.#wake = () => {
        this.#poked = false;
        finish();
      };
    });
  }

  #settleWaiters(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!;
      if (compareCursors(this.#cursor, waiter.head) >= 0) {
        this.#waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  async #run(): Promise<void> {
    const { host, settings } = this;
    const off = host.wakeups.on(() => this.#poke());
    let failures = 0;
    let failure: unknown;
    try {
      await host.wakeups.retainListener();
      while (!this.#stopped) {
        try {
          if (this.#revision === undefined) {
            const stored = await host.checkpoints.load(this.name, () => host.initialCursor(settings.from));
            this.#cursor = stored.cursor;
            this.#revision = stored.revision;
          }
          const page = await host.readAll({
            after: this.#cursor,
            limit: settings.batchSize,
            ...(settings.types === undefined ? {} : { types: settings.types }),
            ...(settings.streamPrefix === undefined ? {} : { streamPrefix: settings.streamPrefix }),
          });
          if (page.events.length > 0) {
            const revision = await this.deliver(page.events, page.next, this.#revision);
            if (revision === undefined) {
              // Someone else moved the checkpoint (a rebuild, another instance): start over from it.
              this.#revision = undefined;
              continue;
            }
            this.#revision = revision;
            this.#cursor = page.next;
            this.#dirty = false;
          } else if (page.next !== this.#cursor) {
            // Only filtered-out events or an advancing horizon: kept in memory, stored on stop.
            this.#cursor = page.next;
            this.#dirty = true;
          }
          failures = 0;
          this.#settleWaiters();
          if (page.caughtUp) await this.#sleep(settings.pollIntervalMs);
        } catch (error) {
          failures += 1;
          settings.onError?.(error);
          if (failures > settings.maxRetries) {
            failure = error;
            break;
          }
          await this.#sleep(Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(failures, 10)));
        }
      }
      if (this.#dirty && this.#revision !== undefined && failure === undefined) {
        await host.checkpoints.save(this.name, this.#cursor, this.#revision).catch(() => undefined);
      }
    } finally {
      off();
      host.wakeups.releaseListener();
      host.forget(this);
      this.#stopped = true;
      const reason =
        failure ??
        new EventStoreError('INVALID_ARGUMENT', `Subscription ${this.name} stopped before catching up`);
      for (const waiter of this.#waiters.splice(0)) waiter.reject(reason);
    }
    if (failure !== undefined) throw failure;
  }
}

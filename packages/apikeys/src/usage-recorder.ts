/**
 * Usage tracking without a write per request: each validation bumps in-memory counters for its key
 * (one Map lookup, no I/O); a timer, a large backlog, `flush()` or `close()` writes the sums, one
 * row per key. Counts add up in the store, so several instances tracking one key stay exact.
 */
import type { ApiKeyError } from './errors';
import type { ApiKeyStore, UsageDelta } from './store';
import type { Quota } from './types';

export class UsageRecorder {
  readonly #store: ApiKeyStore;
  readonly #maxPending: number;
  readonly #report: (error: ApiKeyError) => void;
  /** Usage not yet written, by key id (including what a failed write left to retry). */
  #pending = new Map<string, UsageDelta>();
  #flushing: Promise<void> = Promise.resolve();
  #scheduled = false;

  constructor(store: ApiKeyStore, maxPending: number, report: (error: ApiKeyError) => void) {
    this.#store = store;
    this.#maxPending = maxPending;
    this.#report = report;
  }

  /** Counts one successful validation of `keyId` at `now`. */
  record(keyId: string, quota: Quota | null, now: number): void {
    let delta = this.#pending.get(keyId);
    if (delta === undefined) {
      delta = { keyId, uses: 0, lastUsedAt: now, quotaPeriod: null, quotaUses: 0 };
      this.#pending.set(keyId, delta);
      if (this.#pending.size >= this.#maxPending && !this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.flush().catch(() => {});
        });
      }
    }
    delta.uses++;
    if (now > delta.lastUsedAt) delta.lastUsedAt = now;
    if (quota !== null) {
      const periodMs = quota.periodSeconds * 1000;
      const period = now - (now % periodMs);
      if (delta.quotaPeriod !== period) {
        // Uses of a period that has ended no longer limit anything: keep the newest period only.
        if (delta.quotaPeriod !== null && period < delta.quotaPeriod) return;
        delta.quotaPeriod = period;
        delta.quotaUses = 0;
      }
      delta.quotaUses++;
    }
  }

  /** Uses counted here but not yet in the store, for `get()`. */
  pendingFor(keyId: string): { uses: number; lastUsedAt: number } {
    const delta = this.#pending.get(keyId);
    return delta === undefined
      ? { uses: 0, lastUsedAt: 0 }
      : { uses: delta.uses, lastUsedAt: delta.lastUsedAt };
  }

  get pendingKeys(): number {
    return this.#pending.size;
  }

  /** Writes everything pending; flushes never overlap, and a failed batch is retried next time. */
  flush(): Promise<void> {
    const run = this.#flushing.then(() => this.#flushOnce());
    this.#flushing = run.catch(() => {});
    return run;
  }

  async #flushOnce(): Promise<void> {
    const batch = this.#pending;
    if (batch.size === 0) return;
    this.#pending = new Map();
    try {
      await this.#store.recordUsage([...batch.values()]);
    } catch (error) {
      // Put the batch back under whatever was counted meanwhile, to be written next time.
      for (const delta of batch.values()) merge(this.#pending, delta);
      this.#report(error as ApiKeyError);
      throw error;
    }
  }
}

function merge(into: Map<string, UsageDelta>, delta: UsageDelta): void {
  const existing = into.get(delta.keyId);
  if (existing === undefined) {
    into.set(delta.keyId, delta);
    return;
  }
  existing.uses += delta.uses;
  existing.lastUsedAt = Math.max(existing.lastUsedAt, delta.lastUsedAt);
  if (delta.quotaPeriod === null) return;
  if (existing.quotaPeriod === delta.quotaPeriod) existing.quotaUses += delta.quotaUses;
  else if (existing.quotaPeriod === null || delta.quotaPeriod > existing.quotaPeriod) {
    existing.quotaPeriod = delta.quotaPeriod;
    existing.quotaUses = delta.quotaUses;
  }
}

/**
 * Usage tracking without a write per request: each validation bumps counters on the key's cached
 * state (no allocation, no I/O); a timer, a full batch, `flush()` or `close()` writes the sums.
 * Counts add up in the store, so several instances tracking the same key stay exact.
 */
import type { ApiKeyError } from './errors';
import type { ApiKeyStore, UsageDelta } from './store';
import type { KeyState } from './validation-cache';

export class UsageRecorder {
  readonly #store: ApiKeyStore;
  readonly #maxPending: number;
  readonly #report: (error: ApiKeyError) => void;
  /** States with pending usage; a state appears once however many uses it gathered. */
  #dirty: KeyState[] = [];
  /** Usage taken from states whose write failed, retried with the next flush. */
  #carry = new Map<string, UsageDelta>();
  #flushing: Promise<void> = Promise.resolve();
  #scheduled = false;

  constructor(store: ApiKeyStore, maxPending: number, report: (error: ApiKeyError) => void) {
    this.#store = store;
    this.#maxPending = maxPending;
    this.#report = report;
  }

  /** Counts one successful validation. */
  record(state: KeyState, now: number): void {
    if (state.pendingUses === 0) {
      this.#dirty.push(state);
      if (this.#dirty.length >= this.#maxPending && !this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.flush().catch(() => {});
        });
      }
    }
    state.pendingUses++;
    if (now > state.pendingLastUsedAt) state.pendingLastUsedAt = now;
    if (state.quota !== null) {
      const periodMs = state.quota.periodSeconds * 1000;
      const period = Math.floor(now / periodMs) * periodMs;
      if (state.pendingQuotaPeriod !== period) {
        // Uses of a period that has ended no longer limit anything.
        if (state.pendingQuotaPeriod === null || period > state.pendingQuotaPeriod) {
          state.pendingQuotaPeriod = period;
          state.pendingQuotaUses = 0;
        } else return;
      }
      state.pendingQuotaUses++;
    }
  }

  /** Uses counted here but not yet in the store, for `get()`. */
  pendingFor(keyId: string): { uses: number; lastUsedAt: number } {
    let uses = this.#carry.get(keyId)?.uses ?? 0;
    let lastUsedAt = this.#carry.get(keyId)?.lastUsedAt ?? 0;
    for (const state of this.#dirty) {
      if (state.keyId !== keyId) continue;
      uses += state.pendingUses;
      lastUsedAt = Math.max(lastUsedAt, state.pendingLastUsedAt);
    }
    return { uses, lastUsedAt };
  }

  get pendingKeys(): number {
    return this.#dirty.length + this.#carry.size;
  }

  /** Writes everything pending; flushes never overlap, and a failed batch is retried next time. */
  flush(): Promise<void> {
    const run = this.#flushing.then(() => this.#flushOnce());
    this.#flushing = run.catch(() => {});
    return run;
  }

  async #flushOnce(): Promise<void> {
    const states = this.#dirty;
    this.#dirty = [];
    const batch = this.#carry;
    this.#carry = new Map();
    for (const state of states) {
      merge(batch, {
        keyId: state.keyId,
        uses: state.pendingUses,
        lastUsedAt: state.pendingLastUsedAt,
        quotaPeriod: state.pendingQuotaPeriod,
        quotaUses: state.pendingQuotaUses,
      });
      state.pendingUses = 0;
      state.pendingLastUsedAt = 0;
      state.pendingQuotaUses = 0;
    }
    if (batch.size === 0) return;
    try {
      await this.#store.recordUsage([...batch.values()]);
    } catch (error) {
      for (const delta of batch.values()) merge(this.#carry, delta);
      this.#report(error as ApiKeyError);
      throw error;
    }
  }
}

function merge(into: Map<string, UsageDelta>, delta: UsageDelta): void {
  if (delta.uses === 0 && delta.quotaUses === 0) return;
  const existing = into.get(delta.keyId);
  if (existing === undefined) {
    into.set(delta.keyId, { ...delta });
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

/** The in-process L1: decoded entries, least recently used evicted first, each with its own deadline. */
import type { CacheEntry } from './types';

interface Slot {
  entry: CacheEntry;
  /** Epoch milliseconds after which the slot is dropped (entry expiry, capped by the L1 ttl). */
  until: number;
}

export class LocalLayer {
  readonly #slots = new Map<string, Slot>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.#slots.size;
  }

  /** The fresh entry of `key`, or undefined. */
  get(key: string, now: number): CacheEntry | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.until <= now) {
      this.#slots.delete(key);
      return undefined;
    }
    // Move to the most recently used end; Map keeps insertion order.
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return slot.entry;
  }

  /** Keeps a fresh entry (stale ones are never served from L1). */
  set(entry: CacheEntry, now: number): void {
    const expiry = entry.expiresAt ?? Number.POSITIVE_INFINITY;
    const until = Math.min(expiry, now + this.ttlMs);
    if (until <= now) return;
    this.#slots.delete(entry.key);
    this.#slots.set(entry.key, { entry, until });
    if (this.#slots.size > this.maxEntries) {
      const oldest = this.#slots.keys().next().value as string;
      this.#slots.delete(oldest);
    }
  }

  drop(keys: readonly string[] | undefined): void {
    if (keys === undefined) this.#slots.clear();
    else for (const key of keys) this.#slots.delete(key);
  }
}

import type { ApiKeyError, ApiKeyStore, Pepper } from '../src';

export const PEPPER: Pepper = { id: 'p1', secret: 'pepper-one-0123456789-abcdefghij-XYZ' };
export const PEPPER_2: Pepper = { id: 'p2', secret: 'pepper-two-0123456789-abcdefghij-XYZ' };

/** A clock tests move by hand. */
export function manualClock(start = Date.UTC(2030, 0, 1)): {
  now: () => number;
  advance(ms: number): void;
  set(ms: number): void;
} {
  let current = start;
  return {
    now: () => current,
    advance(ms) {
      current += ms;
    },
    set(ms) {
      current = ms;
    },
  };
}

/** Counts calls per method of a real store (observing, not replacing it). */
export function countingStore(store: ApiKeyStore): { store: ApiKeyStore; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(property)] = (calls[String(property)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: wrapped, calls };
}

/** Collects what the manager reports, as the text a logger would write. */
export function errorLog(): { lines: string[]; onError: (error: ApiKeyError) => void } {
  const lines: string[] = [];
  return {
    lines,
    onError(error) {
      lines.push(JSON.stringify({ ...error.toJSON(), stack: error.stack, cause: String(error.cause) }));
    },
  };
}

export const DAY = 24 * 3600 * 1000;

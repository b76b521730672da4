/** Shared pieces of the cache-warm tests. */

/** Resolves after the current macrotask queue drained (real timers). */
export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Refresh-ahead under load: a hot key read by many concurrent callers is recomputed shortly before
 * each expiry, exactly once per expiry window, and never misses after the first read.
 */
import { type Cache, createCache, createMemoryStore } from '@plat/cache-deps';
import { seededRandom } from '@plat/testkit';
import { createWarmer, type Warmer, xfetchDue } from '../src';

const store = createMemoryStore();
let cache: Cache;
let warmer: Warmer;

beforeEach(() => {
  // Microtasks stay real: p-limit and the cache chain work with them.
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
});
afterEach(async () => {
  const stopping = warmer.stop();
  await jest.advanceTimersByTimeAsync(10_000);
  await stopping;
  await cache.close();
  jest.useRealTimers();
});
afterAll(() => store.close());

describe('refresh-ahead (XFetch)', () => {
  it('keeps a hot key alive under load with exactly one recompute per expiry window', async () => {
    cache = createCache({ store, namespace: 'ra1' });
    const ttl = 1_000;
    const computeMs = 50;
    let computations = 0;
    const computedAt: number[] = [];
    const load = async () => {
      computations += 1;
      computedAt.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, computeMs)); // the database query
      return { version: computations };
    };
    warmer = createWarmer({ cache, random: seededRandom(3) });
    warmer.register('hot', { keys: [], match: 'workflow:', load, ttl, refreshAhead: { beta: 1 } });

    let misses = 0;
    let reads = 0;
    const read = async () => {
      reads += 1;
      let missed = false;
      await cache.wrap(
        'workflow:1',
        () => {
          missed = true;
          return load();
        },
        { ttl },
      );
      if (missed) misses += 1;
    };
    // 20 concurrent readers every 10 ms for 10.5 expiry windows.
    const windows = 10;
    const pending: Array<Promise<void>> = [];
    for (let t = 0; t < ttl * windows + ttl / 2; t += 10) {
      // Not awaited: a miss waits for the loader, whose query only ends as time advances.
      for (let i = 0; i < 20; i++) pending.push(read());
      await jest.advanceTimersByTimeAsync(10);
    }
    await Promise.all(pending);
    expect(reads).toBeGreaterThan(20_000);
    expect(misses).toBe(1); // the very first read; never again
    // The first miss, then only refresh-ahead recomputes.
    expect(warmer.statusOf('hot')?.refreshes).toEqual({ done: computations - 1, failed: 0 });
    // Exactly one recompute per expiry window: each entry is recomputed once, shortly before it
    // expires (never after: no miss), and never twice (a second one would come ~50 ms later).
    const gaps = computedAt.slice(1).map((at, i) => at - computedAt[i]!);
    for (const gap of gaps) {
      expect(gap).toBeLessThanOrEqual(ttl);
      expect(gap).toBeGreaterThanOrEqual(ttl / 2);
    }
    // Each recompute restarts the lifetime a little early (at 2 reads/ms and Δ = 50 ms, about
    // 50·ln(100) ≈ 230 ms early), so 10.5 windows hold a few more than 10.
    expect(gaps.length).toBeGreaterThanOrEqual(windows);
  });

  it('leaves cold keys alone: one read per window never triggers a recompute', async () => {
    cache = createCache({ store, namespace: 'ra2' });
    let computations = 0;
    warmer = createWarmer({ cache, random: seededRandom(5) });
    warmer.register('cold', {
      keys: [],
      match: 'k:',
      load: () => ++computations,
      ttl: 1_000,
      refreshAhead: { minReads: 50 },
    });
    await cache.wrap('k:1', () => ++computations, { ttl: 1_000 });
    for (let i = 0; i < 20; i++) {
      await jest.advanceTimersByTimeAsync(990);
      await cache.get('k:1');
    }
    expect(warmer.statusOf('cold')?.refreshes.done).toBe(0);
  });

  it('follows the XFetch rule: never far from expiry, always at expiry', () => {
    const always = () => 0.999_999; // −ln(1 − r) ≈ 13.8
    const never = () => 0;
    expect(xfetchDue(1_000, 2_000, 50, 1, always)).toBe(false); // 1 s early is far too early
    expect(xfetchDue(1_400, 2_000, 50, 1, always)).toBe(true); // 600 ms early with a tiny chance
    expect(xfetchDue(1_999, 2_000, 50, 1, never)).toBe(false);
    expect(xfetchDue(2_000, 2_000, 50, 1, never)).toBe(true);
    expect(xfetchDue(1_400, 2_000, 50, 0.5, always)).toBe(false); // lower β, later
  });
});

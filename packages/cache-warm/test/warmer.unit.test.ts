/** The warmer on the embedded memory store: runs, safety (deadline, circuit, stop), popularity, start-up. */
import { type Cache, createCache, createMemoryStore } from '@plat/cache-deps';
import { createHealth } from '@plat/health';
import {
  CacheWarmError,
  createWarmer,
  popular,
  type RunResult,
  type WarmErrorContext,
  type Warmer,
} from '../src';

const store = createMemoryStore();
let cache: Cache;
let warmer: Warmer;
let n = 0;
const errors: Array<{ error: unknown; context: WarmErrorContext }> = [];

beforeEach(() => {
  cache = createCache({ store, namespace: `warm${++n}` });
  errors.length = 0;
});
let fakeTime = false;
afterEach(async () => {
  const stopping = warmer?.stop();
  // A failed assertion can leave loads waiting on fake timers: let them finish.
  if (fakeTime) await jest.advanceTimersByTimeAsync(60_000);
  await stopping;
  await cache.close();
  jest.useRealTimers();
  fakeTime = false;
});
afterAll(() => store.close());

function make(options: Partial<Parameters<typeof createWarmer>[0]> = {}): Warmer {
  warmer = createWarmer({ cache, onError: (error, context) => errors.push({ error, context }), ...options });
  return warmer;
}

describe('runs', () => {
  it('warms through the cache so entries keep their dependencies, and skips entries still fresh', async () => {
    const loads: string[] = [];
    make().register('workflows', {
      keys: ['workflow:1', 'workflow:2'],
      load: (key) => {
        loads.push(key);
        return { key };
      },
      ttl: '10m',
      dependsOn: (key) => [`row:${key.split(':')[1]}`],
    });
    const first = await warmer.run('workflows');
    expect(first).toMatchObject({
      keys: 2,
      warmed: 2,
      skipped: 0,
      failed: 0,
      trigger: 'manual',
      outcome: 'completed',
    });
    expect(await cache.dependenciesOf('workflow:1')).toEqual(['row:1']);
    // Fresh entries are not loaded again.
    const second = await warmer.run('workflows');
    expect(second).toMatchObject({ warmed: 0, skipped: 2, skippedBy: { fresh: 2 } });
    expect(loads).toEqual(['workflow:1', 'workflow:2']);
    // Invalidating the row removes the warmed entry, like any other.
    await cache.invalidate('row:1');
    expect(await cache.get('workflow:1')).toBeUndefined();
    expect(await warmer.run('workflows')).toMatchObject({ warmed: 1, skippedBy: { fresh: 1 } });
    expect(warmer.statusOf('workflows')?.lastRuns.map((run) => run.warmed)).toEqual([1, 0, 2]);
  });

  it('warms the keys read most, counted from the cache reads themselves', async () => {
    make().register('hot', {
      keys: popular({ top: 2, window: '1h' }),
      load: (key) => key.toUpperCase(),
      ttl: '1m',
    });
    for (const [key, times] of [
      ['a', 5],
      ['b', 1],
      ['c', 3],
    ] as const) {
      for (let i = 0; i < times; i++) await cache.get(key);
    }
    expect(await warmer.popularKeys(3)).toEqual([
      { key: 'a', count: 5 },
      { key: 'c', count: 3 },
      { key: 'b', count: 1 },
    ]);
    expect(await warmer.run('hot')).toMatchObject({ keys: 2, warmed: 2 });
    expect(await cache.get('a')).toBe('A');
    expect(await cache.get('c')).toBe('C');
    // Warming is not a read: `b` did not become popular by being skipped or loaded.
    expect((await warmer.popularKeys(3)).find(({ key }) => key === 'b')?.count).toBe(1);
  });

  it('records every load failure and opens the circuit instead of hammering a failing database', async () => {
    let calls = 0;
    make({ concurrency: 1, circuit: { failureThreshold: 3, cooldown: '1h' } }).register('broken', {
      keys: Array.from({ length: 10 }, (_, i) => `k${i}`),
      load: () => {
        calls += 1;
        throw new Error('connection refused');
      },
    });
    const result = await warmer.run('broken');
    expect(result).toMatchObject({
      keys: 10,
      warmed: 0,
      failed: 3,
      skipped: 7,
      skippedBy: { 'circuit-open': 7 },
    });
    expect(result.failures).toEqual([
      { key: 'k0', code: 'LOAD_FAILED', message: 'connection refused' },
      { key: 'k1', code: 'LOAD_FAILED', message: 'connection refused' },
      { key: 'k2', code: 'LOAD_FAILED', message: 'connection refused' },
    ]);
    expect(calls).toBe(3);
    expect(warmer.statusOf('broken')?.circuit).toBe('open');
    expect(errors.map((e) => e.context)).toEqual([
      { operation: 'load', warmer: 'broken', key: 'k0' },
      { operation: 'load', warmer: 'broken', key: 'k1' },
      { operation: 'load', warmer: 'broken', key: 'k2' },
    ]);
  });

  it('stops at the deadline with slow loads reported, and a slow database opens the circuit', async () => {
    // Microtasks stay real: p-limit starts queued work with them.
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    fakeTime = true;
    const started: string[] = [];
    make({
      concurrency: 1,
      deadline: '2s',
      circuit: { failureThreshold: 2, slowLoad: '500ms', cooldown: '1m' },
    });
    warmer.register('slow', {
      keys: ['a', 'b', 'c', 'd', 'e'],
      load: async (key, { signal }) => {
        started.push(key);
        await new Promise((resolve) => setTimeout(resolve, 800));
        return signal.aborted ? 'late' : key;
      },
    });
    const running = warmer.run('slow');
    await jest.advanceTimersByTimeAsync(2000);
    const result = await running;
    // a and b took 800 ms each: slow, so the circuit opens after two and c, d, e never start.
    expect(result.deadlineExceeded).toBe(false);
    expect(result).toMatchObject({ warmed: 2, skipped: 3, skippedBy: { 'circuit-open': 3 } });
    expect(warmer.statusOf('slow')?.circuit).toBe('open');
    expect(started).toEqual(['a', 'b']);

    // The circuit is per warmer: another warmer whose loads outlive the deadline.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(warmer.statusOf('slow')?.circuit).toBe('half-open');
    warmer.register('slower', {
      keys: ['x', 'y', 'z'],
      load: () => new Promise((resolve) => setTimeout(() => resolve(1), 5_000)),
    });
    const late = warmer.run('slower');
    await jest.advanceTimersByTimeAsync(2_000);
    const lateResult = await late;
    // x was still loading at the deadline; y and z never started.
    expect(lateResult).toMatchObject({
      deadlineExceeded: true,
      warmed: 0,
      failed: 1,
      skippedBy: { deadline: 2 },
    });
    expect(lateResult.failures.map((f) => [f.key, f.code])).toEqual([['x', 'DEADLINE_EXCEEDED']]);
    // stop() waits for the load still running in the background; y and z never start.
    let stopped = false;
    const stopping = warmer.stop().then(() => {
      stopped = true;
    });
    await jest.advanceTimersByTimeAsync(2_000);
    expect(stopped).toBe(false);
    await jest.advanceTimersByTimeAsync(1_000);
    await stopping;
    expect(stopped).toBe(true);
    expect(await cache.get('x')).toBe(1);
    expect(await cache.get('y')).toBeUndefined();
  });

  it('logs each run and its failures without the secrets a driver error may quote', async () => {
    const lines: Array<[string, string, Record<string, unknown>]> = [];
    const logger = {
      info: (message: string, fields: Record<string, unknown>) => lines.push(['info', message, fields]),
      warn: (message: string, fields: Record<string, unknown>) => lines.push(['warn', message, fields]),
    };
    const runs: RunResult[] = [];
    make({ logger, onRun: (run) => runs.push(run) }).register('leaky', {
      keys: ['a'],
      load: () => {
        throw new Error('connect failed: redis://app:s3cr3t-pass@10.0.0.5:6379');
      },
    });
    const result = await warmer.run('leaky');
    expect(result.failures[0]?.message).toBe('connect failed: redis://app:[REDACTED]@10.0.0.5:6379');
    expect(runs).toEqual([result]);
    expect(lines.map(([level, message]) => [level, message])).toEqual([
      ['info', 'cache-warm run'],
      ['warn', 'cache-warm run had failures'],
    ]);
    expect(lines[0]![2]).toMatchObject({ warmer: 'leaky', warmed: 0, failed: 1 });
    expect(JSON.stringify(lines)).not.toContain('s3cr3t');
  });

  it('records a throwing keys function as a failed run', async () => {
    make().register('keys-fail', {
      keys: () => {
        throw new Error('catalog down');
      },
      load: () => 1,
    });
    expect(await warmer.run('keys-fail')).toMatchObject({
      outcome: 'keys-failed',
      failed: 1,
      failures: [{ key: '*', code: 'KEYS_FAILED', message: 'catalog down' }],
    });
  });
});

describe('start-up and stop', () => {
  it('registers the warm-up with @plat/health, whose startup probe waits for it', async () => {
    const health = createHealth();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    make({ startup: health });
    warmer.register('catalog', {
      keys: ['catalog'],
      load: async () => {
        await gate;
        return ['a', 'b'];
      },
    });
    warmer.register('manual-only', { keys: ['x'], load: () => 1, onStartup: false });
    const warmUp = warmer.startupTask();
    expect(warmer.startupTask()).toBe(warmUp);
    expect((await health.probe('startup')).status).toBe('fail');
    release();
    const { runs } = await warmUp;
    expect(runs.map((run: RunResult) => [run.warmer, run.trigger, run.warmed])).toEqual([
      ['catalog', 'startup', 1],
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await health.probe('startup')).status).toBe('pass');
    await health.close?.();
  });

  it('stop() waits for loads in flight, then refuses new work', async () => {
    let release!: () => void;
    make().register('w', {
      keys: ['k'],
      load: () =>
        new Promise((resolve) => {
          release = () => resolve('v');
        }),
    });
    const run = warmer.run('w');
    await new Promise((resolve) => setImmediate(resolve));
    let stopped = false;
    const stopping = warmer.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect((await run).warmed).toBe(1);
    expect(await cache.get('k')).toBe('v');
    await expect(warmer.run('w')).rejects.toMatchObject({ code: 'STOPPED' });
    expect(() => warmer.register('other', { keys: [], load: () => 1 })).toThrow(CacheWarmError);
  });
});

describe('bad input', () => {
  it('answers typed errors naming the option, and never crashes', async () => {
    make();
    expect(() => createWarmer({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => createWarmer({ cache, concurrency: 0 })).toThrow(/concurrency/);
    expect(() => warmer.register('bad name!', { keys: [], load: () => 1 })).toThrow(/warmer name/);
    expect(() => warmer.register('a', { keys: 'k' as never, load: () => 1 })).toThrow(/keys of warmer "a"/);
    expect(() => warmer.register('a', { keys: [], load: 'x' as never })).toThrow(/load of warmer "a"/);
    expect(() => warmer.register('a', { keys: [], load: () => 1, ttl: 'soon' })).toThrow(/ttl of warmer "a"/);
    expect(() => warmer.register('a', { keys: [], load: () => 1, refreshAhead: { beta: -1 } })).toThrow(
      /beta/,
    );
    expect(() => popular({ top: 0 })).toThrow(/top must be an integer/);
    warmer.register('a', { keys: [], load: () => 1 });
    expect(() => warmer.register('a', { keys: [], load: () => 1 })).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_WARMER' }),
    );
    await expect(warmer.run('nope')).rejects.toMatchObject({ code: 'UNKNOWN_WARMER' });
  });
});

/**
 * Schedules with fake timers and the real `cron` parser: firings land at the planned local time of
 * the time zone, jitter stays within its bound, a run in progress is never overlapped.
 */
import { type Cache, createCache, createMemoryStore } from '@plat/cache-deps';
import { seededRandom } from '@plat/testkit';
import { createWarmer, type RunResult, type Warmer } from '../src';

const store = createMemoryStore();
let cache: Cache;
let warmer: Warmer | undefined;
let n = 0;

beforeEach(() => {
  jest.useFakeTimers({ now: Date.UTC(2026, 0, 5, 5, 30) }); // 06:30 in Paris (UTC+1 in January)
  cache = createCache({ store, namespace: `sched${++n}` });
});
afterEach(async () => {
  await warmer?.stop();
  warmer = undefined;
  await cache.close();
  jest.useRealTimers();
});
afterAll(() => store.close());

describe('cron schedules', () => {
  it('fires at 07:00 Paris time on weekdays, computed by the cron package, and reports the next run', async () => {
    const runs: RunResult[] = [];
    warmer = createWarmer({ cache, onRun: (run) => runs.push(run) });
    warmer.register('morning', {
      keys: ['report:today'],
      load: () => ({ total: 42 }),
      ttl: '1h',
      schedule: { cron: '0 7 * * 1-5', timeZone: 'Europe/Paris' },
    });
    expect(warmer.statusOf('morning')?.schedule).toEqual({
      cron: '0 7 * * 1-5',
      timeZone: 'Europe/Paris',
      nextRun: '2026-01-05T06:00:00.000Z',
    });
    await jest.advanceTimersByTimeAsync(29 * 60_000); // 06:59 Paris
    expect(runs).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      warmer: 'morning',
      trigger: 'schedule',
      warmed: 1,
      outcome: 'completed',
    });
    expect(await cache.get('report:today')).toEqual({ total: 42 });
    // Friday 07:00 → the next firing skips the weekend.
    await jest.advanceTimersByTimeAsync(4 * 86_400_000);
    expect(runs).toHaveLength(5);
    expect(warmer.statusOf('morning')?.schedule?.nextRun).toBe('2026-01-12T06:00:00.000Z');
  });

  it('adds jitter within its bound, and instances agree on the firing whatever their jitter', async () => {
    const starts: number[] = [];
    warmer = createWarmer({ cache, random: seededRandom(7), jitter: '30s' });
    warmer.register('every-minute', {
      keys: () => {
        starts.push(Date.now());
        return [];
      },
      load: () => 1,
      schedule: '* * * * *',
    });
    await jest.advanceTimersByTimeAsync(10 * 60_000);
    expect(starts.length).toBeGreaterThanOrEqual(9);
    for (const at of starts) expect(at % 60_000).toBeLessThan(30_000);
    // Seeded jitter: not every firing at second 0.
    expect(new Set(starts.map((at) => at % 60_000)).size).toBeGreaterThan(1);
  });

  it('never overlaps runs of one warmer: a firing during a run is skipped', async () => {
    let release!: () => void;
    let loads = 0;
    const runs: RunResult[] = [];
    warmer = createWarmer({ cache, onRun: (run) => runs.push(run), deadline: '1h' });
    warmer.register('slow', {
      keys: ['a'],
      load: async () => {
        loads += 1;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return 1;
      },
      ttl: 1000,
      schedule: '* * * * *',
    });
    await jest.advanceTimersByTimeAsync(60_000 * 5);
    expect(loads).toBe(1);
    expect(warmer.statusOf('slow')?.running).toBe(true);
    // A manual run joins the run in progress instead of starting a second one.
    const joined = warmer.run('slow');
    release();
    const result = await joined;
    expect(result.trigger).toBe('schedule');
    expect(runs).toHaveLength(1);
    expect(loads).toBe(1);
  });

  it('rejects invalid expressions and time zones with a typed error', () => {
    warmer = createWarmer({ cache });
    expect(() => warmer!.register('bad', { keys: [], load: () => 1, schedule: 'every morning' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('"bad"') }),
    );
    expect(() =>
      warmer!.register('zone', {
        keys: [],
        load: () => 1,
        schedule: { cron: '0 7 * * *', timeZone: 'Mars/Olympus' },
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => createWarmer({ cache, timeZone: 'Nowhere' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});

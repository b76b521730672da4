import { seededRandom, zipfSampler } from '@plat/testkit';
import { CountMinSketch } from '../src/count-min';
import { Popularity } from '../src/popularity';
import { TopK } from '../src/top-k';

const HOUR = 3_600_000;

function tracker(now: () => number, options: { width?: number; capacity?: number } = {}) {
  return new Popularity({
    width: options.width ?? 4096,
    depth: 4,
    capacity: options.capacity ?? 1000,
    hourlyKeys: 100,
    timeZone: 'UTC',
    now,
    shared: undefined,
    onError: (error) => {
      throw error;
    },
  });
}

describe('popularity tracking', () => {
  it('recovers the true top-100 of a Zipf stream: ≥ 95 of 100 keys, the top 20 exactly, counts within e·N/width', async () => {
    const random = seededRandom(42);
    const rank = zipfSampler(100_000, 1.1, random);
    const truth = new Map<string, number>();
    const popularity = tracker(() => 0);
    popularity.track(HOUR, 100);
    const reads = 120_000;
    for (let i = 0; i < reads; i++) {
      // Keys are named apart from their rank, so nothing in the structures can lean on the order.
      const key = `workflow:${(rank() * 7919) % 100_003}`;
      truth.set(key, (truth.get(key) ?? 0) + 1);
      popularity.record(key);
    }
    const trueTop = [...truth].sort((a, b) => b[1] - a[1]).map(([key]) => key);
    const found = (await popularity.top(HOUR, 100)).map(({ key }) => key);
    const overlap = found.filter((key) => trueTop.slice(0, 100).includes(key)).length;
    expect(overlap).toBeGreaterThanOrEqual(95);
    expect(found.slice(0, 20)).toEqual(trueTop.slice(0, 20));
    // The count-min guarantee: over-estimate at most e·N/width (with probability 1 − e^−depth).
    const bound = (Math.E * reads) / 4096;
    for (const { key, count } of await popularity.top(HOUR, 100)) {
      const actual = truth.get(key)!;
      expect(count).toBeGreaterThanOrEqual(actual);
      expect(count - actual).toBeLessThanOrEqual(bound);
    }
  });

  it('halves counts every window, so a key popular long ago gives way to one popular now', async () => {
    let now = 0;
    const popularity = tracker(() => now);
    popularity.track(HOUR, 10);
    for (let i = 0; i < 1000; i++) popularity.record('old');
    now = 3 * HOUR; // three halvings: 1000 → 125
    for (let i = 0; i < 200; i++) popularity.record('new');
    const top = await popularity.top(HOUR, 2);
    expect(top.map(({ key }) => key)).toEqual(['new', 'old']);
    expect(top[1]!.count).toBe(125);
    expect(popularity.estimate('old', HOUR)).toBe(125);
  });

  it('keeps bounded memory whatever the key space', () => {
    const popularity = tracker(() => 0);
    popularity.track(HOUR, 100);
    for (let i = 0; i < 10_000; i++) popularity.record(`key:${i}`);
    const after10k = popularity.bytes;
    for (let i = 10_000; i < 100_000; i++) popularity.record(`key:${i}`);
    expect(popularity.bytes).toBeLessThanOrEqual(after10k * 1.05);
  });

  it('learns the keys of each hour of the day and answers them for the same hour later', async () => {
    let now = Date.UTC(2026, 0, 5, 8, 0);
    const popularity = tracker(() => now);
    // Day 1: morning reports at 09:00–10:00, evening exports at 18:00–19:00.
    now = Date.UTC(2026, 0, 5, 9, 5);
    for (let i = 0; i < 50; i++) popularity.record(`report:${i % 5}`);
    now = Date.UTC(2026, 0, 5, 18, 5);
    for (let i = 0; i < 50; i++) popularity.record(`export:${i % 3}`);
    now = Date.UTC(2026, 0, 6, 8, 50);
    const morning = await popularity.timeOfDay(now + 10 * 60_000, 10);
    expect(morning.map(({ key }) => key).sort()).toEqual([
      'report:0',
      'report:1',
      'report:2',
      'report:3',
      'report:4',
    ]);
    const evening = await popularity.timeOfDay(Date.UTC(2026, 0, 6, 18, 0), 10);
    expect(evening.map(({ key }) => key).sort()).toEqual(['export:0', 'export:1', 'export:2']);
    expect(await popularity.timeOfDay(Date.UTC(2026, 0, 6, 3, 0), 10)).toEqual([]);
  });
});

describe('count-min sketch and top-K heap', () => {
  it('never under-estimates and halves exactly', () => {
    const sketch = new CountMinSketch(64, 4);
    for (let i = 0; i < 1000; i++) sketch.add(`k${i % 100}`);
    for (let i = 0; i < 100; i++) expect(sketch.estimate(`k${i}`)).toBeGreaterThanOrEqual(10);
    const before = sketch.estimate('k1');
    sketch.halve();
    expect(sketch.estimate('k1')).toBe(before >>> 1);
  });

  it('keeps the K largest, evicting the weakest', () => {
    const top = new TopK(3);
    for (const [key, count] of [
      ['a', 5],
      ['b', 1],
      ['c', 7],
      ['d', 3],
      ['b', 9],
    ] as const)
      top.offer(key, count);
    expect(top.top(3)).toEqual([
      { key: 'b', count: 9 },
      { key: 'c', count: 7 },
      { key: 'a', count: 5 },
    ]);
  });
});

/**
 * Popularity of cache keys: every read goes into a count-min sketch and a top-K heap per window,
 * halved once per window so old reads fade; and into an hourly heap whose top keys are folded into
 * a profile per hour of the day (halved daily) for time-of-day warming. Optionally, counts are added
 * to Redis sorted sets shared by a fleet, with the same halving done by one instance per period.
 */
import { CountMinSketch } from './count-min';
import { hourOfDay } from './hour-of-day';
import type { RedisCommands } from './redis-commands';
import { TopK } from './top-k';

const HOUR = 3_600_000;

export interface PopularityConfig {
  width: number;
  depth: number;
  capacity: number;
  hourlyKeys: number;
  timeZone: string | undefined;
  now: () => number;
  /** Redis and the prefix of the shared sorted sets, when shared. */
  shared: { redis: RedisCommands; prefix: string } | undefined;
  onError: (error: unknown, operation: string) => void;
}

export interface Counted {
  key: string;
  count: number;
}

class WindowCounter {
  readonly sketch: CountMinSketch;
  readonly top: TopK;
  halvedAt: number;

  constructor(
    readonly windowMs: number,
    width: number,
    depth: number,
    capacity: number,
    now: number,
  ) {
    this.sketch = new CountMinSketch(width, depth);
    this.top = new TopK(capacity);
    this.halvedAt = now;
  }

  /** Halves once per elapsed window (lazily, so no timer runs and simulated clocks work). */
  age(now: number): void {
    let steps = 0;
    while (now - this.halvedAt >= this.windowMs && steps < 32) {
      this.sketch.halve();
      this.top.halve();
      this.halvedAt += this.windowMs;
      steps += 1;
    }
    if (now - this.halvedAt >= this.windowMs) {
      // Idle for more than 32 windows: everything has faded to zero anyway.
      this.sketch.clear();
      this.top.clear();
      this.halvedAt = now;
    }
  }

  add(key: string, now: number): number {
    this.age(now);
    const count = this.sketch.add(key);
    this.top.offer(key, count);
    return count;
  }
}

// Halve (once per window, by whichever instance comes first), add this instance's counts, trim.
const FLUSH_WINDOW = `
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  local items = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 1, #items, 2 do redis.call('ZADD', KEYS[1], tonumber(items[i + 1]) / 2, items[i]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(0.5')
end
for i = 4, #ARGV, 2 do redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i]) end
local size = redis.call('ZCARD', KEYS[1])
if size > tonumber(ARGV[2]) then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - tonumber(ARGV[2]) - 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return size`;

/**
 * Popularity tracker of one warmer instance. Memory: one sketch and one heap per window asked for,
 * one hourly sketch and heap, 24 hourly profiles of at most `hourlyKeys` keys, and at most
 * `4 × capacity` pending keys when shared.
 */
export class Popularity {
  private readonly config: PopularityConfig;
  private readonly windows = new Map<number, WindowCounter>();
  private readonly hour: WindowCounter;
  private hourBucket: number;
  private readonly profiles = new Map<number, Map<string, number>>();
  private readonly pending = new Map<string, number>();
  private pendingProfiles: Array<{ hour: number; keys: Counted[] }> = [];
  private flushing: Promise<void> | undefined;
  reads = 0;
  /** Reads left out of the shared counts because the pending map was full. */
  dropped = 0;

  constructor(config: PopularityConfig) {
    this.config = config;
    const now = config.now();
    this.hour = new WindowCounter(
      HOUR,
      Math.max(256, config.width >> 1),
      config.depth,
      config.hourlyKeys,
      now,
    );
    this.hourBucket = Math.floor(now / HOUR);
  }

  get bytes(): number {
    let bytes = this.hour.sketch.bytes + this.hour.top.bytes;
    for (const window of this.windows.values()) bytes += window.sketch.bytes + window.top.bytes;
    for (const profile of this.profiles.values()) {
      for (const key of profile.keys()) bytes += 48 + key.length * 2;
    }
    return bytes;
  }

  /** Starts counting for a window (idempotent); the heap holds at least `top` keys. */
  track(windowMs: number, top: number): void {
    const existing = this.windows.get(windowMs);
    if (existing !== undefined && existing.top.capacity >= top) return;
    const { width, depth, capacity, now } = this.config;
    const counter = new WindowCounter(windowMs, width, depth, Math.max(capacity, top), now());
    // A larger heap replaces the smaller one; the sketch restarts (rare: only when registering).
    this.windows.set(windowMs, counter);
  }

  record(key: string): void {
    const now = this.config.now();
    this.reads += 1;
    for (const window of this.windows.values()) window.add(key, now);
    this.rollHour(now);
    this.hour.sketch.add(key);
    this.hour.top.offer(key, this.hour.sketch.estimate(key));
    if (this.config.shared !== undefined) {
      const pending = this.pending.get(key);
      if (pending !== undefined) this.pending.set(key, pending + 1);
      else if (this.pending.size < this.config.capacity * 4) this.pending.set(key, 1);
      else this.dropped += 1;
    }
  }

  /** Estimated decayed count of `key` in the given window (the smallest one when omitted). */
  estimate(key: string, windowMs?: number): number {
    const now = this.config.now();
    const window =
      windowMs === undefined
        ? [...this.windows.values()].sort((a, b) => a.windowMs - b.windowMs)[0]
        : this.windows.get(windowMs);
    if (window === undefined) return 0;
    window.age(now);
    return window.sketch.estimate(key);
  }

  /** The most read keys of a window: from the fleet's sorted set when shared, else this instance's. */
  async top(windowMs: number, n: number, filter?: (key: string) => boolean): Promise<Counted[]> {
    this.track(windowMs, n);
    const shared = this.config.shared;
    if (shared !== undefined) {
      try {
        await this.flush();
        const fetch = filter === undefined ? n : Math.min(this.config.capacity * 4, n * 4);
        const reply = await shared.redis.send(
          this.windowKey(windowMs),
          ['ZRANGE', this.windowKey(windowMs), '0', String(fetch - 1), 'REV', 'WITHSCORES'],
          'popularity read',
        );
        return pick(pairs(reply), n, filter);
      } catch (error) {
        this.config.onError(error, 'popularity');
      }
    }
    const window = this.windows.get(windowMs)!;
    window.age(this.config.now());
    return pick(window.top.top(window.top.capacity), n, filter);
  }

  /** Keys most read in the hour of the day that `at` falls in, on previous days. */
  async timeOfDay(at: number, n: number, filter?: (key: string) => boolean): Promise<Counted[]> {
    this.rollHour(this.config.now());
    const hour = hourOfDay(at, this.config.timeZone);
    const shared = this.config.shared;
    if (shared !== undefined) {
      try {
        await this.flush();
        const key = this.profileKey(hour);
        const fetch = filter === undefined ? n : n * 4;
        const reply = await shared.redis.send(
          key,
          ['ZRANGE', key, '0', String(fetch - 1), 'REV', 'WITHSCORES'],
          'time-of-day read',
        );
        return pick(pairs(reply), n, filter);
      } catch (error) {
        this.config.onError(error, 'popularity');
      }
    }
    const profile = this.profiles.get(hour);
    if (profile === undefined) return [];
    const all = [...profile].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count);
    return pick(all, n, filter);
  }

  /** At an hour boundary, folds the finished hour's top keys into that hour-of-day's profile. */
  private rollHour(now: number): void {
    const bucket = Math.floor(now / HOUR);
    if (bucket === this.hourBucket) return;
    const hour = hourOfDay(this.hourBucket * HOUR, this.config.timeZone);
    const keys = this.hour.top.top(this.config.hourlyKeys);
    this.hourBucket = bucket;
    this.hour.sketch.clear();
    this.hour.top.clear();
    if (keys.length === 0) return;
    const profile = this.profiles.get(hour) ?? new Map<string, number>();
    // The same hour of earlier days counts half per day: recent days lead, older ones fade.
    for (const [key, count] of profile) profile.set(key, count / 2);
    for (const { key, count } of keys) profile.set(key, (profile.get(key) ?? 0) + count);
    if (profile.size > this.config.hourlyKeys) {
      const kept = [...profile].sort((a, b) => b[1] - a[1]).slice(0, this.config.hourlyKeys);
      profile.clear();
      for (const [key, count] of kept) profile.set(key, count);
    }
    this.profiles.set(hour, profile);
    if (this.config.shared !== undefined) {
      this.pendingProfiles.push({ hour, keys });
      if (this.pendingProfiles.length > 24) this.pendingProfiles.shift();
    }
  }

  /** Adds this instance's counts since the last flush to the shared sorted sets. */
  flush(): Promise<void> {
    const shared = this.config.shared;
    if (shared === undefined) return Promise.resolve();
    // One flush at a time; a caller arriving meanwhile waits for it and flushes what came after.
    const run = (this.flushing ?? Promise.resolve()).then(() => this.flushNow(shared));
    this.flushing = run;
    return run;
  }

  private async flushNow(shared: { redis: RedisCommands; prefix: string }): Promise<void> {
    const counts = [...this.pending];
    this.pending.clear();
    const profiles = this.pendingProfiles;
    this.pendingProfiles = [];
    try {
      if (counts.length > 0) {
        const args = counts.flatMap(([key, count]) => [key, String(count)]);
        for (const windowMs of this.windows.keys()) {
          const key = this.windowKey(windowMs);
          const maxKeys = Math.max(this.config.capacity, this.windows.get(windowMs)!.top.capacity) * 2;
          await shared.redis.eval(
            FLUSH_WINDOW,
            [key, `${key}:halved`],
            [String(windowMs), String(maxKeys), String(windowMs * 40), ...args],
            'popularity flush',
          );
        }
      }
      for (const { hour, keys } of profiles) {
        const key = this.profileKey(hour);
        // Halved once a day (the marker lives 20 hours), by the first instance to fold this hour.
        await shared.redis.eval(
          FLUSH_WINDOW,
          [key, `${key}:halved`],
          [
            String(20 * HOUR),
            String(this.config.hourlyKeys),
            String(8 * 24 * HOUR),
            ...keys.flatMap(({ key: member, count }) => [member, String(count)]),
          ],
          'time-of-day flush',
        );
      }
    } catch (error) {
      this.config.onError(error, 'flush');
    }
  }

  private windowKey(windowMs: number): string {
    return `{${this.config.shared!.prefix}:pop:${windowMs}}`;
  }

  private profileKey(hour: number): string {
    return `{${this.config.shared!.prefix}:tod:${hour}}`;
  }
}

/** `[member, score, member, score, …]` as pairs. */
function pairs(reply: unknown): Counted[] {
  const items = Array.isArray(reply) ? reply : [];
  const out: Counted[] = [];
  for (let i = 0; i + 1 < items.length; i += 2)
    out.push({ key: String(items[i]), count: Number(items[i + 1]) });
  return out;
}

function pick(items: Counted[], n: number, filter: ((key: string) => boolean) | undefined): Counted[] {
  const kept = filter === undefined ? items : items.filter((item) => filter(item.key));
  return kept.slice(0, n);
}

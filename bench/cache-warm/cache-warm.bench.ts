/**
 * @plat/cache-warm against no warming, on one replayed request trace:
 *
 * - The trace is generated, seeded and identical for every strategy: Zipf(0.9) popularity over
 *   20,000 keys whose ranking drifts (random neighbour swaps among the top 2,000 every 10 minutes),
 *   a daily cycle of the request rate (quiet nights at 5% of the peak), and a time-of-day part: a
 *   quarter of the requests go to a set of 200 keys of the current hour (the 09:00 reports), the
 *   same sets every day.
 * - Time is simulated (@sinonjs/fake-timers: Date, performance and timers), so days replay in
 *   seconds with the real cache (@plat/cache-deps, memory store), the real warmer, the real cron
 *   parser and the real XFetch decisions. A load is a 20 ms query in simulated time; a hit costs
 *   0 ms of simulated time, so read latency counts the time spent waiting for the database.
 * - Strategies: none (read-through `wrap` only), cron top-K (`popular()` every minute and
 *   `timeOfDay()` 5 minutes before each hour), refresh-ahead (XFetch), both (the docs' example), and
 *   "both, wide" (the hour-ahead warmer widened, a setting the docs describe for the top-100 target).
 * - Measured after the first simulated day (popularity and the hourly profiles learn on day one):
 *   hit ratio, loader calls (reads' own loads plus warming loads), p99 read latency, and misses on
 *   the top-100 keys in two senses: the 100 keys requested most over the measured days ("period"),
 *   and the generator's true top-100 by rate at the time of each read ("current": the ranking after
 *   drift plus the hour's time-of-day keys).
 * - An oracle row bounds what warming can do: computed offline from the trace, it refreshes an
 *   expiring entry exactly when its key will be read within the next TTL.
 */
import { type Cache, createCache, createMemoryStore } from '@plat/cache-deps';
import { createWarmer, popular, timeOfDay, type Warmer } from '@plat/cache-warm';
import { seededRandom, zipfSampler } from '@plat/testkit/random';
import FakeTimers from '@sinonjs/fake-timers';
import { type BenchRow, printTable } from '../harness';

const QUICK = process.env.PLAT_BENCH_QUICK === '1';
const DAYS = QUICK ? 2 : 4;
const KEYS = 20_000;
const ZIPF_S = 0.9;
/** Requests per second at the daily peak. */
const PEAK_RATE = QUICK ? 3 : 6;
const NIGHT_SHARE = 0.05;
const HOURLY_SHARE = 0.25;
const HOURLY_KEYS = 200;
const TTL = 30 * 60_000;
const LOAD_MS = 20;
const START = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC
const DAY = 86_400_000;
const SEED = 20260105;

interface Trace {
  times: Float64Array;
  keys: Int32Array;
  /** 1 when the request is for one of the 100 keys requested most over the measured days. */
  top100: Uint8Array;
  /**
   * 1 when the key is, at the time of the request, among the generator's true current top-100 by
   * request rate: the current ranking after drift, with the hour's time-of-day keys added to it.
   */
  current100: Uint8Array;
  /** 1 when the request came from the time-of-day part (one of the current hour's keys). */
  hourly: Uint8Array;
  /** 1 when the same key was requested within the previous TTL: a miss there is an expiry miss. */
  recent: Uint8Array;
  /**
   * 1 when no past request points to this one: the key was not requested within the previous TTL,
   * nor in the same hour of the day on an earlier day. No warmer that learns from reads can have it
   * warm except by warming keys it has no reason to pick.
   */
  unforeseeable: Uint8Array;
}

/** Requests per second at `t`: a smooth day from 06:00 to 22:00 peaking mid-afternoon, quiet nights. */
function rateAt(t: number): number {
  const hour = ((t - START) % DAY) / 3_600_000;
  const day = hour >= 6 && hour < 22 ? Math.sin((Math.PI * (hour - 6)) / 16) ** 2 : 0;
  return PEAK_RATE * (NIGHT_SHARE + (1 - NIGHT_SHARE) * day);
}

function generateTrace(): Trace {
  const random = seededRandom(SEED);
  const rank = zipfSampler(KEYS, ZIPF_S, random);
  const hourlyRank = zipfSampler(HOURLY_KEYS, 1, random);
  const ranking = Int32Array.from({ length: KEYS }, (_, i) => i);
  for (let i = KEYS - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ranking[i], ranking[j]] = [ranking[j]!, ranking[i]!];
  }
  const hourly = Array.from({ length: 24 }, () =>
    Int32Array.from({ length: HOURLY_KEYS }, () => Math.floor(random() * KEYS)),
  );
  const times: number[] = [];
  const keys: number[] = [];
  const top100: number[] = [];
  const current100: number[] = [];
  const fromHour: number[] = [];
  // The true current top-100: each key's share of the requests of the moment (its Zipf rank's
  // share plus its share of the hour's time-of-day requests). Only the first 100 ranks and the
  // hour's keys can be in it; recomputed after each drift and at each hour.
  const zipfTotal = zipfNorm(KEYS, ZIPF_S);
  const hourlyTotal = zipfNorm(HOURLY_KEYS, 1);
  const zipfShare = (r: number) => ((1 - HOURLY_SHARE) * (r + 1) ** -ZIPF_S) / zipfTotal;
  const hourlyShare = (j: number) => (HOURLY_SHARE * (j + 1) ** -1) / hourlyTotal;
  const position = new Int32Array(KEYS);
  for (let r = 0; r < KEYS; r++) position[ranking[r]!] = r;
  let current = new Set<number>();
  let currentHour = -1;
  const rankCurrent = (hour: number) => {
    const share = new Map<number, number>();
    for (let r = 0; r < 100; r++) share.set(ranking[r]!, zipfShare(r));
    hourly[hour]!.forEach((key, j) => {
      share.set(key, (share.get(key) ?? zipfShare(position[key]!)) + hourlyShare(j));
    });
    current = new Set(
      [...share]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 100)
        .map(([key]) => key),
    );
  };
  let t = START;
  let nextDrift = START + 600_000;
  const end = START + DAYS * DAY;
  for (;;) {
    // Poisson arrivals at the peak rate, thinned to the rate of the moment.
    t += (-Math.log(1 - random()) / PEAK_RATE) * 1000;
    if (t >= end) break;
    const hour = Math.floor(((t - START) % DAY) / 3_600_000);
    let changed = hour !== currentHour;
    while (nextDrift <= t) {
      for (let i = 0; i < 30; i++) {
        const a = Math.floor(random() * 2000);
        const b = Math.min(KEYS - 1, a + 1 + Math.floor(random() * 100));
        [ranking[a], ranking[b]] = [ranking[b]!, ranking[a]!];
        position[ranking[a]!] = a;
        position[ranking[b]!] = b;
      }
      nextDrift += 600_000;
      changed = true;
    }
    if (changed) {
      currentHour = hour;
      rankCurrent(hour);
    }
    if (random() * PEAK_RATE > rateAt(t)) continue;
    times.push(t);
    const fromThisHour = random() < HOURLY_SHARE;
    const key = fromThisHour ? hourly[hour]![hourlyRank()]! : ranking[rank()]!;
    keys.push(key);
    top100.push(0);
    current100.push(current.has(key) ? 1 : 0);
    fromHour.push(fromThisHour ? 1 : 0);
  }
  // The top-100 keys: the 100 most requested over the measured days (after the first).
  const counts = new Map<number, number>();
  for (let i = 0; i < times.length; i++) {
    if (times[i]! >= START + DAY) counts.set(keys[i]!, (counts.get(keys[i]!) ?? 0) + 1);
  }
  const top = new Set(
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 100)
      .map(([key]) => key),
  );
  for (let i = 0; i < times.length; i++) top100[i] = top.has(keys[i]!) ? 1 : 0;
  const lastRead = new Float64Array(KEYS).fill(Number.NEGATIVE_INFINITY);
  const recent = new Uint8Array(times.length);
  const unforeseeable = new Uint8Array(times.length);
  // The last day on which each key was requested in each hour of the day.
  const dayOfHour = new Int32Array(KEYS * 24).fill(-1);
  for (let i = 0; i < times.length; i++) {
    const key = keys[i]!;
    const day = Math.floor((times[i]! - START) / DAY);
    const slot = key * 24 + Math.floor(((times[i]! - START) % DAY) / 3_600_000);
    recent[i] = times[i]! - lastRead[key]! <= TTL ? 1 : 0;
    const seenThatHour = dayOfHour[slot]! >= 0 && dayOfHour[slot]! < day;
    unforeseeable[i] = recent[i] === 0 && !seenThatHour ? 1 : 0;
    if (dayOfHour[slot]! < day) dayOfHour[slot] = day;
    lastRead[key] = times[i]!;
  }
  return {
    recent,
    unforeseeable,
    times: Float64Array.from(times),
    keys: Int32Array.from(keys),
    top100: Uint8Array.from(top100),
    current100: Uint8Array.from(current100),
    hourly: Uint8Array.from(fromHour),
  };
}

/** Σ_{r=1..n} r^−s: the normalisation of a Zipf(s) law over n ranks. */
function zipfNorm(n: number, s: number): number {
  let sum = 0;
  for (let r = 1; r <= n; r++) sum += r ** -s;
  return sum;
}

type Strategy = 'none' | 'cron top-K' | 'refresh-ahead' | 'both' | 'both, wide';

interface Outcome {
  reads: number;
  hits: number;
  loads: number;
  p99: number;
  top100Reads: number;
  top100Misses: number;
  /** Reads of a key in the true current top-100, and the misses among them. */
  currentReads: number;
  currentMisses: number;
  /** Of those misses, the ones no past read points to (see `Trace.unforeseeable`). */
  currentMissesUnforeseeable: number;
  warmLoads: number;
}

/** Registers the warmers of a strategy (the configuration the docs recommend for this traffic). */
function registerWarmers(warmer: Warmer, strategy: Strategy, load: (key: string) => Promise<unknown>): void {
  const wide = strategy === 'both, wide';
  const both = strategy === 'both' || wide;
  if (strategy === 'cron top-K' || both) {
    // The most read keys stay warm day and night, reloaded in the last minute of their life; a wider
    // net than 100, since today's top 100 drift, and a floor so that quiet hours warm fewer.
    warmer.register('popular', {
      keys: popular({ top: 250, window: '2h', minCount: 2 }),
      load,
      ttl: TTL,
      schedule: '* * * * *',
      skipFresherThan: '1m',
      onStartup: false,
    });
    // The keys of the coming hour on previous days, 5 minutes before it starts. "both, wide" widens
    // it for zero misses on the current top-100 (docs: "Time-of-day warming"): the hour's top-100 by
    // rate holds about 60 of its time-of-day keys, ranked on a few reads each near the profile's
    // edge, so `top: 200`; and every 5 minutes (reloading entries with under half a ttl left, the
    // default) so they stay warm through their whole hour, not just its first 30 minutes.
    warmer.register('hour-ahead', {
      keys: timeOfDay({ top: wide ? 200 : 100, lead: '5m' }),
      load,
      ttl: TTL,
      schedule: wide ? '*/5 * * * *' : '55 * * * *',
      onStartup: false,
    });
  }
  if (strategy === 'refresh-ahead' || both) {
    warmer.register('refresh', {
      keys: [],
      match: () => true,
      load,
      ttl: TTL,
      // Δ = 20 ms: β = 15,000 gives Δβ = 5 min, a sixth of the TTL; keys read every few minutes are
      // recomputed before they expire, and only when read (see the docs on tuning β).
      refreshAhead: { beta: 15_000, minReads: 2 },
      onStartup: false,
    });
  }
}

async function replay(trace: Trace, strategy: Strategy): Promise<Outcome> {
  const clock = FakeTimers.install({
    now: START,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
  // The clock's timer heap (created with the first timer): the next timer to fire.
  const nextTimer = () =>
    (clock as unknown as { timerHeap?: { peek(): { callAt: number } | undefined } }).timerHeap?.peek()
      ?.callAt;
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** Advances simulated time to `target`, firing timers at their own times and letting their promises settle. */
  const advanceTo = async (target: number) => {
    // What the last read started settles first, at the time it started.
    await flush();
    let stuck = 0;
    for (;;) {
      const next = nextTimer();
      if (next === undefined || next > target) break;
      const before = clock.now;
      clock.tick(Math.max(0, next - clock.now));
      await flush();
      stuck = clock.now === before ? stuck + 1 : 0;
      if (stuck > 10_000) break;
    }
    if (target > clock.now) clock.tick(target - clock.now);
    await flush();
  };

  const store = createMemoryStore({ maxEntries: 1_000_000 });
  const cache: Cache = createCache({ store, namespace: 'bench' });
  let loads = 0;
  let warmLoads = 0;
  const query = (key: string) => {
    loads += 1;
    return new Promise((resolve) => setTimeout(() => resolve({ key }), LOAD_MS));
  };
  let warmer: Warmer | undefined;
  if (strategy !== 'none') {
    // Seeded too: XFetch draws and jitter are the same on every run.
    warmer = createWarmer({
      cache,
      concurrency: 8,
      timeZone: 'UTC',
      tracing: false,
      deadline: '4m',
      random: seededRandom(SEED + 1),
    });
    registerWarmers(warmer, strategy, (key) => {
      warmLoads += 1;
      return query(key);
    });
  }

  const measureFrom = START + DAY;
  const latencies: number[] = [];
  let reads = 0;
  let hits = 0;
  let top100Reads = 0;
  let top100Misses = 0;
  let currentReads = 0;
  let currentMisses = 0;
  let currentMissesUnforeseeable = 0;
  let loadsAtStart = 0;
  let warmLoadsAtStart = 0;
  let measuring = false;
  const pending = new Set<Promise<void>>();
  for (let i = 0; i < trace.times.length; i++) {
    const at = trace.times[i]!;
    await advanceTo(at);
    if (!measuring && at >= measureFrom) {
      measuring = true;
      loadsAtStart = loads;
      warmLoadsAtStart = warmLoads;
    }
    const key = `workflow:${trace.keys[i]}`;
    const started = Date.now();
    let loaded = false;
    const counted = measuring;
    const top = trace.top100[i] === 1;
    const inCurrent = trace.current100[i] === 1;
    const unforeseeable = trace.unforeseeable[i] === 1;
    const read = cache
      .wrap(
        key,
        () => {
          loaded = true;
          return query(key);
        },
        { ttl: TTL },
      )
      .then(() => {
        if (!counted) return;
        const latency = Date.now() - started;
        reads += 1;
        const hit = !loaded && latency === 0;
        if (hit) hits += 1;
        latencies.push(latency);
        if (top) {
          top100Reads += 1;
          if (!hit) top100Misses += 1;
        }
        if (inCurrent) {
          currentReads += 1;
          if (!hit) currentMisses += 1;
          if (!hit && unforeseeable) currentMissesUnforeseeable += 1;
        }
      });
    const tracked: Promise<void> = read.finally(() => pending.delete(tracked));
    pending.add(tracked);
  }
  await advanceTo(clock.now + 60_000);
  await Promise.all(pending);
  const stopping = warmer?.stop();
  await advanceTo(clock.now + 600_000);
  await stopping;
  await cache.close();
  await store.close();
  clock.uninstall();
  latencies.sort((a, b) => a - b);
  return {
    reads,
    hits,
    loads: loads - loadsAtStart,
    warmLoads: warmLoads - warmLoadsAtStart,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    top100Reads,
    top100Misses,
    currentReads,
    currentMisses,
    currentMissesUnforeseeable,
  };
}

/**
 * What warming could do at best on this trace, computed offline from the requests (an entry lives a
 * TTL from its load; the 20 ms of a load are ignored). Misses of read-through alone split into
 * first reads, reads after a gap longer than the TTL (nothing in the recent reads predicts them),
 * and expiry misses of keys read within the previous TTL (what refreshing can remove). The oracle
 * knows the future but only refreshes: when an entry expires it reloads it exactly when the key
 * will be read within the next TTL, so every expiry miss becomes a hit at the least loads.
 */
interface Bound {
  reads: number;
  noneHits: number;
  noneLoads: number;
  firstMisses: number;
  gapMisses: number;
  /** First and gap misses of the hour's time-of-day keys: the most `timeOfDay()` could add. */
  hourMisses: number;
  expiryMisses: number;
  oracleHits: number;
  oracleLoads: number;
  oracleRefreshes: number;
}

function computeBound(trace: Trace): Bound {
  const from = START + DAY;
  const noneExpires = new Float64Array(KEYS).fill(Number.NEGATIVE_INFINITY);
  const oracleExpires = new Float64Array(KEYS).fill(Number.NEGATIVE_INFINITY);
  const seen = new Uint8Array(KEYS);
  const b: Bound = {
    reads: 0,
    noneHits: 0,
    noneLoads: 0,
    firstMisses: 0,
    gapMisses: 0,
    hourMisses: 0,
    expiryMisses: 0,
    oracleHits: 0,
    oracleLoads: 0,
    oracleRefreshes: 0,
  };
  for (let i = 0; i < trace.times.length; i++) {
    const t = trace.times[i]!;
    const key = trace.keys[i]!;
    const measured = t >= from;
    if (measured) b.reads += 1;
    if (t < noneExpires[key]!) {
      if (measured) b.noneHits += 1;
    } else {
      noneExpires[key] = t + TTL;
      if (measured) {
        b.noneLoads += 1;
        if (trace.recent[i] === 1) b.expiryMisses += 1;
        else {
          if (seen[key] === 0) b.firstMisses += 1;
          else b.gapMisses += 1;
          if (trace.hourly[i] === 1) b.hourMisses += 1;
        }
      }
    }
    // The oracle's entry expired at `expires`: this read (the next one of the key) comes within a
    // TTL of it, so the oracle reloaded it then.
    const expires = oracleExpires[key]!;
    if (expires <= t && t - expires < TTL) {
      oracleExpires[key] = expires + TTL;
      if (expires >= from) {
        b.oracleLoads += 1;
        b.oracleRefreshes += 1;
      }
    }
    if (t < oracleExpires[key]!) {
      if (measured) b.oracleHits += 1;
    } else {
      oracleExpires[key] = t + TTL;
      if (measured) b.oracleLoads += 1;
    }
    seen[key] = 1;
  }
  return b;
}

/** The share of the Zipf part's requests that goes to ranks [from, to). */
function zipfMass(from: number, to: number): number {
  let part = 0;
  for (let r = from; r < to; r++) part += (r + 1) ** -ZIPF_S;
  return part / zipfNorm(KEYS, ZIPF_S);
}

/** The last Zipf rank read at least once per TTL on average at `rate` requests per second. */
function oncePerTtl(rate: number): number {
  const perTtl = (rate * (1 - HOURLY_SHARE) * TTL) / 1000 / zipfNorm(KEYS, ZIPF_S);
  return Math.min(KEYS, Math.floor(perTtl ** (1 / ZIPF_S)));
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

export default async function run(): Promise<void> {
  const generated = performance.now();
  const trace = generateTrace();
  console.log(
    `\ntrace: ${trace.times.length.toLocaleString('en-US')} requests over ${DAYS} simulated days (seed ${SEED}), ` +
      `${KEYS.toLocaleString('en-US')} keys, Zipf ${ZIPF_S}, drift, daily cycle, ${HOURLY_SHARE * 100}% time-of-day; ` +
      `TTL ${TTL / 60_000} min, load ${LOAD_MS} ms; measured after day 1 (generated in ${Math.round(performance.now() - generated)} ms)`,
  );
  const strategies: Strategy[] = ['none', 'cron top-K', 'refresh-ahead', 'both', 'both, wide'];
  const outcomes = new Map<Strategy, Outcome>();
  for (const strategy of strategies) {
    const started = performance.now();
    outcomes.set(strategy, await replay(trace, strategy));
    console.log(`  replayed ${strategy} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const bound = computeBound(trace);
  const none = outcomes.get('none')!;
  const noneRatio = none.hits / none.reads;
  const pts = (ratio: number) =>
    `${ratio >= noneRatio ? '+' : ''}${((ratio - noneRatio) * 100).toFixed(1)} pts`;
  const rows: BenchRow[] = strategies.map((strategy) => {
    const o = outcomes.get(strategy)!;
    return {
      system: strategy,
      metrics: {
        'hit ratio': percent(o.hits / o.reads),
        'vs none': strategy === 'none' ? '' : pts(o.hits / o.reads),
        'loader calls': o.loads,
        'of which warming': o.warmLoads,
        'p99 read (sim ms)': o.p99,
        'top-100 misses (period)': `${o.top100Misses} of ${o.top100Reads}`,
        'top-100 misses (current)': `${o.currentMisses} of ${o.currentReads}`,
      },
    };
  });
  // The oracle is computed offline (no 20 ms loads): its gain is taken over the offline none, and
  // shown on top of the measured none so the rows compare.
  const oracleGain = (bound.oracleHits - bound.noneHits) / bound.reads;
  const oracleLoadRatio = bound.oracleLoads / bound.noneLoads;
  rows.push({
    system: 'oracle (bound)',
    metrics: {
      'hit ratio': percent(noneRatio + oracleGain),
      'vs none': pts(noneRatio + oracleGain),
      'loader calls': Math.round(none.loads * oracleLoadRatio),
      'of which warming': Math.round(bound.oracleRefreshes * (none.loads / bound.noneLoads)),
      'p99 read (sim ms)': '',
      'top-100 misses (period)': '',
      'top-100 misses (current)': '',
    },
  });
  printTable('Cache warming on a replayed trace (simulated time, the same trace for every strategy)', rows, {
    ratioOf: 'loader calls',
    higherIsBetter: false,
    note:
      'ratio: loader calls relative to no warming. Hits cost 0 simulated ms, a load 20 ms. top-100 (period): the 100 keys ' +
      'most requested over the measured days; (current): the true top-100 by rate at the time of the read. ' +
      'oracle: refreshes an expiring entry exactly when its key is read within the next TTL (computed offline).',
  });
  const missShare = (n: number) => percent(n / bound.reads);
  console.log(
    `misses of none (offline, ${percent(bound.noneHits / bound.reads)} hits): first reads ${missShare(bound.firstMisses)}, ` +
      `after a gap > TTL ${missShare(bound.gapMisses)} (of these two, the hour's keys ${missShare(bound.hourMisses)}), ` +
      `expiry misses of keys read within the TTL ${missShare(bound.expiryMisses)} of reads; ` +
      `oracle +${(oracleGain * 100).toFixed(1)} pts at ${oracleLoadRatio.toFixed(2)}x loads`,
  );
  console.log(
    `Zipf ${ZIPF_S} share of the Zipf requests by rank: 1-10 ${percent(zipfMass(0, 10))}, 11-100 ${percent(zipfMass(10, 100))}, ` +
      `101-1,000 ${percent(zipfMass(100, 1000))}, 1,001-${KEYS.toLocaleString('en-US')} ${percent(zipfMass(1000, KEYS))}; ` +
      `read at least once per TTL: ranks up to ${oncePerTtl(PEAK_RATE)} at the peak, ${oncePerTtl(PEAK_RATE * NIGHT_SHARE)} at night`,
  );
  for (const name of ['both', 'both, wide'] as const) {
    const o = outcomes.get(name)!;
    console.log(
      `"${name}": current top-100 misses ${o.currentMisses}, of which ${o.currentMissesUnforeseeable} unforeseeable (no read within the TTL before, none in that hour on an earlier day)`,
    );
  }
  const both = outcomes.get('both')!;
  const gain = (both.hits / both.reads - noneRatio) * 100;
  const extra = (both.loads / none.loads - 1) * 100;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(
    `targets for "both": hit ratio +${gain.toFixed(1)} pts over none (≥ +10: ${verdict(gain >= 10)}; ` +
      `bound +${(oracleGain * 100).toFixed(1)} pts), loader calls ${extra >= 0 ? '+' : ''}${extra.toFixed(1)}% ` +
      `(≤ +20%: ${verdict(extra <= 20)}), top-100 misses after warm-up ${both.top100Misses} over the period, ` +
      `${both.currentMisses} on the current top-100 (zero: ${verdict(both.currentMisses === 0)})`,
  );
}

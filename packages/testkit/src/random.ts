/**
 * Seeded randomness for tests and benchmarks: the same seed gives the same stream on every run and
 * machine, so a failing fuzz case or a benchmark trace can be replayed exactly.
 */

/**
 * mulberry32: a small, fast 32-bit generator with a full period, uniform in [0, 1).
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * const dice = 1 + Math.floor(random() * 6);
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Samples ranks 0..n−1 with P(rank r) ∝ 1 / (r + 1)^s (Zipf), by binary search over the cumulative
 * weights: O(n) once, O(log n) per draw.
 *
 * @example
 * ```ts
 * const rank = zipfSampler(10_000, 0.9, seededRandom(1));
 * const key = `item:${rank()}`;
 * ```
 */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1) ** s;
    cumulative[r] = sum;
  }
  return () => {
    const target = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/**
 * A count-min sketch with conservative update: a fixed table of counters that over-estimates a
 * key's count by at most `e / width` of all counts (with probability `1 − e^−depth`), whatever the
 * number of distinct keys. Halving every counter ages the counts.
 *
 * Plain `private` fields here and in the heap, not `#private`: these run for every read, and
 * transpilers that lower `#fields` (for decorator support) make them several times slower.
 */

/** 32-bit FNV-1a of `text` with a seed, so two seeds give two independent-enough hashes. */
function fnv1a(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // Final avalanche (from murmur3's fmix32): FNV alone leaves the low bits poorly mixed for short keys.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

export class CountMinSketch {
  readonly width: number;
  readonly depth: number;
  private readonly table: Uint32Array;
  private readonly slots: Uint32Array;
  /** Sum of all increments (after halvings), the `N` of the error bound. */
  total = 0;

  constructor(width: number, depth: number) {
    this.width = width;
    this.depth = depth;
    this.table = new Uint32Array(width * depth);
    this.slots = new Uint32Array(depth);
  }

  get bytes(): number {
    return this.table.byteLength;
  }

  private locate(key: string): Uint32Array {
    // Kirsch–Mitzenmacher: depth hashes from two, h1 + i·h2, as good as independent ones for this use.
    const h1 = fnv1a(key, 0);
    const h2 = fnv1a(key, 0x9e3779b9) | 1;
    for (let row = 0; row < this.depth; row++) {
      this.slots[row] = row * this.width + (((h1 + Math.imul(row, h2)) >>> 0) % this.width);
    }
    return this.slots;
  }

  /** Adds `count` to `key` and answers its new estimate. */
  add(key: string, count = 1): number {
    const slots = this.locate(key);
    let min = Number.POSITIVE_INFINITY;
    for (let row = 0; row < this.depth; row++) min = Math.min(min, this.table[slots[row]!]!);
    const target = min + count;
    // Conservative update: raise only the counters below the new estimate, which keeps the
    // over-estimate of popular keys far lower than plain count-min on skewed streams.
    for (let row = 0; row < this.depth; row++) {
      const slot = slots[row]!;
      if (this.table[slot]! < target) this.table[slot] = Math.min(target, 0xffffffff);
    }
    this.total += count;
    return target;
  }

  estimate(key: string): number {
    const slots = this.locate(key);
    let min = Number.POSITIVE_INFINITY;
    for (let row = 0; row < this.depth; row++) min = Math.min(min, this.table[slots[row]!]!);
    return min;
  }

  /** Halves every counter: reads older than one halving period count half. */
  halve(): void {
    for (let i = 0; i < this.table.length; i++) this.table[i] = this.table[i]! >>> 1;
    this.total = Math.floor(this.total / 2);
  }

  clear(): void {
    this.table.fill(0);
    this.total = 0;
  }
}

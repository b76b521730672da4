/**
 * The K keys with the highest estimated counts: a min-heap (the weakest candidate on top) plus an
 * index, so a read costs O(log K) and memory stays at K entries whatever the key space.
 */

interface Slot {
  key: string;
  count: number;
}

export class TopK {
  readonly capacity: number;
  private readonly heap: Slot[] = [];
  private readonly index = new Map<string, number>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Approximate bytes held (keys and slots), for the status report. */
  get bytes(): number {
    let bytes = 0;
    for (const slot of this.heap) bytes += 64 + slot.key.length * 2;
    return bytes;
  }

  /** Offers `key` with its current estimate; it enters when there is room or it beats the weakest. */
  offer(key: string, count: number): void {
    const at = this.index.get(key);
    if (at !== undefined) {
      const slot = this.heap[at]!;
      const previous = slot.count;
      slot.count = count;
      if (count > previous) this.down(at);
      else this.up(at);
      return;
    }
    if (this.heap.length < this.capacity) {
      this.heap.push({ key, count });
      this.index.set(key, this.heap.length - 1);
      this.up(this.heap.length - 1);
      return;
    }
    const weakest = this.heap[0];
    if (weakest === undefined || count <= weakest.count) return;
    this.index.delete(weakest.key);
    this.heap[0] = { key, count };
    this.index.set(key, 0);
    this.down(0);
  }

  /** The `n` strongest keys, highest count first. */
  top(n: number): Array<{ key: string; count: number }> {
    return [...this.heap]
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
      .slice(0, n)
      .map(({ key, count }) => ({ key, count }));
  }

  /** Halves every count with the sketch, so the heap's order keeps matching the sketch's estimates. */
  halve(): void {
    for (const slot of this.heap) slot.count = Math.floor(slot.count / 2);
    // Halving keeps the heap order except where floors tie; restore it cheaply.
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  clear(): void {
    this.heap.length = 0;
    this.index.clear();
  }

  private swap(a: number, b: number): void {
    const slotA = this.heap[a]!;
    const slotB = this.heap[b]!;
    this.heap[a] = slotB;
    this.heap[b] = slotA;
    this.index.set(slotB.key, a);
    this.index.set(slotA.key, b);
  }

  private up(at: number): void {
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.heap[parent]!.count <= this.heap[i]!.count) return;
      this.swap(parent, i);
      i = parent;
    }
  }

  private down(at: number): void {
    let i = at;
    const n = this.heap.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && this.heap[left]!.count < this.heap[smallest]!.count) smallest = left;
      if (right < n && this.heap[right]!.count < this.heap[smallest]!.count) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}

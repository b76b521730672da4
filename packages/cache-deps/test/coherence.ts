/**
 * The consistency guarantee with several instances, each with its own connection and L1: once
 * `invalidate` resolves, no instance returns the old value. Run on Redis and on Redis Cluster.
 */
import { type Cache, type CacheOptions, type CacheStore, createCache, type ReadEvent } from '../src';

export interface Instance {
  readonly store: CacheStore;
  /** Closes the store and its connection. */
  close(): Promise<void>;
  /** Breaks the instance's connection without any goodbye (a crash, as seen from Redis). */
  kill(): void;
}

export interface CoherenceTarget {
  namespace(): string;
  /** A separate process, as far as Redis can tell: its own client and store. */
  instance(): Promise<Instance>;
}

const LEASE_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function describeCoherence(name: string, target: CoherenceTarget): void {
  describe(name, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });

    interface Node {
      cache: Cache;
      instance: Instance;
      /** Layers that answered the reads so far. */
      layers: Array<ReadEvent['layer']>;
    }

    async function node(namespace: string, options: CacheOptions = {}): Promise<Node> {
      const instance = await target.instance();
      cleanups.push(() => instance.close());
      const layers: Array<ReadEvent['layer']> = [];
      const cache = createCache({
        store: instance.store,
        namespace,
        l1: { leaseMs: LEASE_MS },
        onRead: (event) => layers.push(event.layer),
        ...options,
      });
      cleanups.push(() => cache.close());
      return { cache, instance, layers };
    }

    /** Reads until the answer comes from L1 (the lease is up and the entry is in memory). */
    async function warm(n: Node, key: string): Promise<unknown> {
      for (let i = 0; i < 200; i++) {
        n.layers.length = 0;
        const value = await n.cache.get(key);
        if (n.layers[0] === 'l1') return value;
        await sleep(10);
      }
      throw new Error(`L1 never served ${key}`);
    }

    it('once invalidate resolves, no instance serves the old value, directly or transitively', async () => {
      const ns = target.namespace();
      const a = await node(ns);
      const b = await node(ns);
      for (let round = 0; round < 15; round++) {
        await a.cache.set(`user:${round}`, { v: 'old' });
        await a.cache.set(`list:${round}`, ['old'], { dependsOn: [`user:${round}`] });
        await a.cache.set(`page:${round}`, '<old>', { dependsOn: [`list:${round}`] });
        for (const key of [`user:${round}`, `list:${round}`, `page:${round}`]) {
          expect(await warm(b, key)).toBeDefined();
          expect(await warm(a, key)).toBeDefined();
        }
        // B keeps reading while A invalidates; reads that start after the call resolved must miss.
        let resolvedAt = Number.POSITIVE_INFINITY;
        const late: unknown[] = [];
        let stop = false;
        const reader = (async () => {
          while (!stop) {
            const startedAt = performance.now();
            const value = await b.cache.get(`page:${round}`);
            if (startedAt > resolvedAt) late.push(value);
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        await a.cache.invalidate(`user:${round}`);
        resolvedAt = performance.now();
        for (const key of [`user:${round}`, `list:${round}`, `page:${round}`]) {
          expect(await b.cache.get(key)).toBeUndefined();
          expect(await a.cache.get(key)).toBeUndefined();
        }
        await sleep(5);
        stop = true;
        await reader;
        expect(late.length).toBeGreaterThan(0);
        expect(late.filter((value) => value !== undefined)).toEqual([]);
      }
    }, 60_000);

    it('delete and invalidatePattern are coherent too', async () => {
      const ns = target.namespace();
      const a = await node(ns);
      const b = await node(ns);
      await a.cache.set('d', 1);
      await a.cache.set('w:1', 1);
      await a.cache.set('w:2', 2);
      for (const key of ['d', 'w:1', 'w:2']) await warm(b, key);
      await a.cache.delete('d');
      expect(await b.cache.get('d')).toBeUndefined();
      await a.cache.invalidatePattern('w:*');
      expect(await b.cache.get('w:1')).toBeUndefined();
      expect(await b.cache.get('w:2')).toBeUndefined();
    });

    it('a value set on one instance replaces the copy in the other L1s', async () => {
      const ns = target.namespace();
      const a = await node(ns);
      const b = await node(ns);
      await a.cache.set('k', 'v1');
      expect(await warm(b, 'k')).toBe('v1');
      await a.cache.set('k', 'v2');
      let seen: unknown;
      for (let i = 0; i < 100 && seen !== 'v2'; i++) {
        seen = await b.cache.get('k');
        await sleep(10);
      }
      expect(seen).toBe('v2');
    });

    it('waits for an instance that stopped answering only until its lease ends, which empties its L1', async () => {
      const ns = target.namespace();
      const a = await node(ns);
      const c = await node(ns);
      await a.cache.set('k', 'old', { dependsOn: ['u'] });
      expect(await warm(c, 'k')).toBe('old');
      c.instance.kill();
      const started = performance.now();
      await a.cache.invalidate('u');
      const waited = performance.now() - started;
      // Bounded: at most about one lease (generous limits: the machine is shared).
      expect(waited).toBeLessThan(LEASE_MS * 5);
      // C can no longer confirm anything; by now its lease is over, so it must not answer from L1.
      expect(await c.cache.get('k')).toBeUndefined();
    });

    it('answers from L1 exactly what the store would', async () => {
      const ns = target.namespace();
      const a = await node(ns);
      const value = { at: new Date(0), list: [1] };
      await a.cache.set('k', value);
      value.list.push(2);
      expect(await warm(a, 'k')).toEqual({ at: '1970-01-01T00:00:00.000Z', list: [1] });
      const loaded = await a.cache.wrap('w', async () => ({ at: new Date(0) }));
      expect(loaded.at).toBeInstanceOf(Date); // the loader's own value goes back to its caller
      expect(await warm(a, 'w')).toEqual({ at: '1970-01-01T00:00:00.000Z' });
    });

    it('reaches the L1s of other instances from a cache without an L1', async () => {
      const ns = target.namespace();
      const worker = await node(ns, { l1: false });
      const web = await node(ns);
      await worker.cache.set('k', 'old', { dependsOn: ['u'] });
      expect(await warm(web, 'k')).toBe('old');
      await worker.cache.invalidate('u');
      expect(await web.cache.get('k')).toBeUndefined();
      // Writes from it replace the L1 copies too (unconfirmed).
      await worker.cache.set('k', 'v1');
      expect(await warm(web, 'k')).toBe('v1');
      await worker.cache.set('k', 'v2');
      let seen: unknown;
      for (let i = 0; i < 100 && seen !== 'v2'; i++) {
        seen = await web.cache.get('k');
        await sleep(10);
      }
      expect(seen).toBe('v2');
    });

    it('a new instance joining later starts with an empty L1 and stays coherent', async () => {
      const ns = target.namespace();
      const a = await node(ns);
      await a.cache.set('k', 1, { dependsOn: ['u'] });
      const late = await node(ns);
      expect(await warm(late, 'k')).toBe(1);
      await a.cache.invalidate('u');
      expect(await late.cache.get('k')).toBeUndefined();
    });
  });
}

/**
 * One behaviour suite for every store: the memory store, Redis and a 3-master Redis Cluster run the
 * same tests through the public cache API.
 */
import { isPlatError } from '@plat/core';
import type { Cache, CacheOptions, CacheStore } from '../src';

export interface ConformanceTarget {
  /** The store under test (created in the caller's beforeAll). */
  store(): CacheStore;
  /** A namespace nobody else uses. */
  namespace(): string;
  /** Keys the store still holds for a namespace (Redis only), to check that the graph does not grow. */
  storedKeys?(namespace: string): Promise<string[]>;
  /** Creates a cache; the suite closes it. */
  create(options: CacheOptions): Cache;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The 10,000-node graph of the issue: 1 → 10 → 100 → 1,000 → 8,889, every node below level 1 with a second parent. */
export function benchmarkGraph(): Array<{ key: string; dependsOn: string[] }> {
  const levels: string[][] = [['n0']];
  const nodes: Array<{ key: string; dependsOn: string[] }> = [{ key: 'n0', dependsOn: [] }];
  let count = 1;
  for (let depth = 1; count < 10_000; depth++) {
    const parents = levels[depth - 1]!;
    const level: string[] = [];
    for (let i = 0; i < parents.length * 10 && count < 10_000; i++) {
      const key = `n${count++}`;
      const first = parents[Math.floor(i / 10)]!;
      const second = parents[(Math.floor(i / 10) + 1 + (i % 7)) % parents.length]!;
      level.push(key);
      nodes.push({ key, dependsOn: first === second ? [first] : [first, second] });
    }
    levels.push(level);
  }
  return nodes;
}

export function describeConformance(name: string, target: ConformanceTarget): void {
  describe(name, () => {
    const open: Cache[] = [];
    const make = (options: CacheOptions = {}): Cache => {
      const cache = target.create({ store: target.store(), namespace: target.namespace(), ...options });
      open.push(cache);
      return cache;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((cache) => cache.close()));
    });

    describe('entries', () => {
      it('stores, reads and deletes JSON values', async () => {
        const cache = make();
        const value = { id: 1, tags: ['a', 'b'], nested: { ok: true }, n: null };
        await cache.set('user:1', value);
        expect(await cache.get('user:1')).toEqual(value);
        expect(await cache.get('user:2')).toBeUndefined();
        await cache.delete('user:1');
        expect(await cache.get('user:1')).toBeUndefined();
      });

      it('expires entries after their ttl', async () => {
        const cache = make({ defaultTtl: 60_000 });
        await cache.set('short', 1, { ttl: 80 });
        await cache.set('long', 2);
        expect(await cache.get('short')).toBe(1);
        await sleep(200);
        expect(await cache.get('short')).toBeUndefined();
        expect(await cache.get('long')).toBe(2);
      });

      it('keeps entry metadata for refresh-ahead: expiry and compute time', async () => {
        const cache = make({ defaultTtl: 60_000 });
        const before = Date.now();
        await cache.wrap('slow', async () => {
          await sleep(40);
          return 'v';
        });
        const entry = await cache.getEntry<string>('slow');
        expect(entry).toMatchObject({ key: 'slow', value: 'v', stale: false });
        expect(entry!.computeMs).toBeGreaterThanOrEqual(30);
        expect(entry!.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
        expect(entry!.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
        await cache.set('given', 1, { ttl: 5_000, computeMs: 12 });
        expect(await cache.getEntry('given')).toMatchObject({ computeMs: 12 });
        await cache.set('forever', 1, { ttl: Number.POSITIVE_INFINITY });
        expect(await cache.getEntry('forever')).toMatchObject({
          expiresAt: undefined,
          staleUntil: undefined,
        });
      });

      it('rejects bad keys and values with typed errors, without storing anything', async () => {
        const cache = make();
        await expect(cache.set('', 1)).rejects.toMatchObject({ code: 'INVALID_KEY' });
        await expect(cache.get('}x')).rejects.toMatchObject({ code: 'INVALID_KEY' });
        await expect(cache.set('k', undefined)).rejects.toMatchObject({ code: 'INVALID_VALUE' });
        await expect(cache.set('k', () => 1)).rejects.toMatchObject({ code: 'INVALID_VALUE' });
        await expect(cache.set('k', 1, { ttl: -5 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
        await expect(cache.set('k', 1, { dependsOn: ['ok', ''] })).rejects.toMatchObject({
          code: 'INVALID_KEY',
        });
        await expect(cache.invalidate('k', { maxDepth: -1 })).rejects.toMatchObject({
          code: 'INVALID_OPTIONS',
        });
        expect(await cache.get('k')).toBeUndefined();
      });

      it('accepts keys with braces, colons, spaces and unicode', async () => {
        const cache = make();
        const keys = ['a{b}c', 'x}y', 'with space', 'ünï:κλειδί', 'a:{}:b', '{tag}rest'];
        for (const key of keys) await cache.set(key, key, { dependsOn: ['root,{1}:ü'] });
        for (const key of keys) expect(await cache.get(key)).toBe(key);
        const result = await cache.invalidate('root,{1}:ü');
        expect([...result.keys].sort()).toEqual(['root,{1}:ü', ...keys].sort());
        for (const key of keys) expect(await cache.get(key)).toBeUndefined();
      });
    });

    describe('wrap', () => {
      it('calls the loader once for concurrent misses and caches the result', async () => {
        const cache = make();
        let calls = 0;
        const loader = async () => {
          calls++;
          await sleep(30);
          return { n: calls };
        };
        const results = await Promise.all(Array.from({ length: 20 }, () => cache.wrap('hot', loader)));
        expect(calls).toBe(1);
        for (const result of results) expect(result).toEqual({ n: 1 });
        expect(await cache.wrap('hot', loader)).toEqual({ n: 1 });
        expect(calls).toBe(1);
      });

      it('does not cache a loader failure, and the next call retries', async () => {
        const cache = make();
        await expect(
          cache.wrap('flaky', async () => {
            throw new Error('db down');
          }),
        ).rejects.toThrow('db down');
        expect(await cache.wrap('flaky', async () => 'ok')).toBe('ok');
      });

      it('serves a stale value within grace while one refresh runs', async () => {
        const cache = make();
        let version = 0;
        const loader = async () => {
          version++;
          await sleep(20);
          return version;
        };
        expect(await cache.wrap('swr', loader, { ttl: 60, grace: 10_000 })).toBe(1);
        await sleep(120);
        expect(await cache.get('swr')).toBeUndefined(); // get never answers stale
        const stale = await Promise.all([
          cache.wrap('swr', loader, { ttl: 60, grace: 10_000 }),
          cache.wrap('swr', loader, { ttl: 60, grace: 10_000 }),
        ]);
        expect(stale).toEqual([1, 1]);
        await sleep(80);
        expect(version).toBe(2);
        expect(await cache.wrap('swr', loader, { ttl: 5_000 })).toBe(2);
      });

      it('recomputes with force and records the new compute time', async () => {
        const cache = make();
        await cache.wrap('f', async () => 1);
        expect(
          await cache.wrap(
            'f',
            async () => {
              await sleep(25);
              return 2;
            },
            { force: true },
          ),
        ).toBe(2);
        expect(await cache.get('f')).toBe(2);
        expect((await cache.getEntry('f'))!.computeMs).toBeGreaterThanOrEqual(20);
      });

      it('does not store a value whose dependency was invalidated while it was computed', async () => {
        const cache = make();
        await cache.set('user:1', { name: 'old' });
        let release!: () => void;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const pending = cache.wrap(
          'profile:1',
          async () => {
            const user = await cache.get<{ name: string }>('user:1');
            await gate;
            return `profile of ${user?.name}`;
          },
          { dependsOn: ['user:1'] },
        );
        await sleep(30);
        await cache.invalidate('user:1');
        release();
        expect(await pending).toBe('profile of old');
        // The value was built from data invalidated meanwhile: it must not be served afterwards.
        expect(await cache.get('profile:1')).toBeUndefined();
        expect(await cache.wrap('profile:1', async () => 'fresh', { dependsOn: ['user:1'] })).toBe('fresh');
        expect(await cache.get('profile:1')).toBe('fresh');
      });

      it('starts a new load for callers arriving after an invalidation', async () => {
        const cache = make();
        let calls = 0;
        let release!: () => void;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const first = cache.wrap('k', async () => {
          calls++;
          await gate;
          return 'built before';
        });
        await sleep(10);
        await cache.invalidate('k');
        const second = cache.wrap('k', async () => {
          calls++;
          return 'built after';
        });
        release();
        expect(await first).toBe('built before');
        expect(await second).toBe('built after');
        expect(calls).toBe(2);
      });
    });

    describe('the dependency graph', () => {
      it('cascades down a chain', async () => {
        const cache = make();
        await cache.set('a', 1);
        await cache.set('b', 2, { dependsOn: ['a'] });
        await cache.set('c', 3, { dependsOn: ['b'] });
        await cache.set('d', 4, { dependsOn: ['c'] });
        await cache.set('other', 5);
        const result = await cache.invalidate('a');
        expect(result.keys).toEqual(['a', 'b', 'c', 'd']);
        expect(result.levels).toBe(4);
        for (const key of ['a', 'b', 'c', 'd']) expect(await cache.get(key)).toBeUndefined();
        expect(await cache.get('other')).toBe(5);
      });

      it('cascades through a diamond once', async () => {
        const cache = make();
        await cache.set('top', 0);
        await cache.set('left', 1, { dependsOn: ['top'] });
        await cache.set('right', 2, { dependsOn: ['top'] });
        await cache.set('bottom', 3, { dependsOn: ['left', 'right'] });
        const result = await cache.invalidate('top');
        expect([...result.keys].sort()).toEqual(['bottom', 'left', 'right', 'top']);
        expect(result.keys.filter((key) => key === 'bottom')).toHaveLength(1);
        expect(result.levels).toBe(3);
      });

      it('survives cycles', async () => {
        const cache = make();
        await cache.set('x', 1, { dependsOn: ['z'] });
        await cache.set('y', 2, { dependsOn: ['x'] });
        await cache.set('z', 3, { dependsOn: ['y'] });
        await cache.addDependency('x', ['x']);
        expect(new Set(await cache.dependentsOf('x'))).toEqual(new Set(['y', 'z']));
        const result = await cache.invalidate('y');
        expect([...result.keys].sort()).toEqual(['x', 'y', 'z']);
        for (const key of ['x', 'y', 'z']) expect(await cache.get(key)).toBeUndefined();
      });

      it('reports dependents breadth-first with a depth limit, and dependencies', async () => {
        const cache = make();
        await cache.set('b', 1, { dependsOn: ['a'] });
        await cache.set('c', 1, { dependsOn: ['a'] });
        await cache.set('d', 1, { dependsOn: ['b'] });
        await cache.set('e', 1, { dependsOn: ['d', 'c'] });
        const all = await cache.dependentsOf('a');
        expect(all.slice(0, 2).sort()).toEqual(['b', 'c']);
        expect(all.slice(2).sort()).toEqual(['d', 'e']);
        expect((await cache.dependentsOf('a', { depth: 1 })).sort()).toEqual(['b', 'c']);
        expect(await cache.dependentsOf('a', { depth: 0 })).toEqual([]);
        expect((await cache.dependenciesOf('e')).sort()).toEqual(['c', 'd']);
        expect(await cache.dependenciesOf('a')).toEqual([]);
      });

      it('replaces dependencies when a key is set again; stale edges invalidate nothing', async () => {
        const cache = make();
        await cache.set('page', 'v1', { dependsOn: ['old'] });
        await cache.set('page', 'v2', { dependsOn: ['new'] });
        expect(await cache.dependentsOf('old')).toEqual([]);
        expect(await cache.invalidate('old')).toMatchObject({ keys: ['old'] });
        expect(await cache.get('page')).toBe('v2');
        expect((await cache.invalidate('new')).keys).toEqual(['new', 'page']);
        expect(await cache.get('page')).toBeUndefined();
      });

      it('handles a key with thousands of dependencies', async () => {
        const cache = make();
        const many = Array.from({ length: 5000 }, (_, i) => `dep:${i}`);
        await cache.set('wide', 1, { dependsOn: many });
        expect(await cache.dependenciesOf('wide')).toHaveLength(5000);
        await cache.set('wide', 2, { dependsOn: many.slice(2500).concat(['other']) });
        expect(await cache.dependenciesOf('wide')).toHaveLength(2501);
        expect((await cache.invalidate('dep:100')).keys).toEqual(['dep:100']);
        expect((await cache.invalidate('dep:4999')).keys).toEqual(['dep:4999', 'wide']);
      }, 30_000);

      it('keeps a deleted key linked to its dependents', async () => {
        const cache = make();
        await cache.set('a', 1);
        await cache.set('b', 2, { dependsOn: ['a'] });
        await cache.delete('a');
        expect(await cache.get('b')).toBe(2);
        await cache.set('a', 1);
        await cache.invalidate('a');
        expect(await cache.get('b')).toBeUndefined();
      });

      it('still reaches the dependents of a deleted key through what it depended on', async () => {
        const cache = make();
        await cache.set('list', 'l', { dependsOn: ['user'] });
        await cache.set('page', 'p', { dependsOn: ['list'] });
        await cache.delete('list');
        // 'list' was removed already: walked through, not listed again.
        expect((await cache.invalidate('user')).keys).toEqual(['user', 'page']);
        expect(await cache.get('page')).toBeUndefined();
      });

      it('adds dependencies to an existing entry, living as long as it', async () => {
        const cache = make();
        await cache.set('view', 'v', { ttl: 5_000, dependsOn: ['a'] });
        await cache.addDependency('view', ['b', 'c']);
        expect((await cache.dependenciesOf('view')).sort()).toEqual(['a', 'b', 'c']);
        await cache.invalidate('c');
        expect(await cache.get('view')).toBeUndefined();
      });

      it('gives added edges an explicit lifetime, no expiry, or the default', async () => {
        const cache = make({ defaultTtl: 150 });
        await cache.set('v', 1);
        await cache.addDependency('v', ['forever'], { ttl: Number.POSITIVE_INFINITY });
        await cache.addDependency('graph-only', ['p']);
        await cache.invalidate('gone');
        await cache.addDependency('gone', ['q']); // a tombstone is no entry: the default applies
        expect(await cache.dependentsOf('p')).toEqual(['graph-only']);
        await sleep(450);
        expect(await cache.get('v')).toBeUndefined();
        expect(await cache.dependenciesOf('v')).toEqual(['forever']);
        expect(await cache.dependentsOf('forever')).toEqual(['v']);
        expect(await cache.dependentsOf('p')).toEqual([]);
        expect(await cache.dependentsOf('q')).toEqual([]);
      });

      it('lets edges expire with their entries, so the graph does not grow', async () => {
        const ns = target.namespace();
        const cache = target.create({ store: target.store(), namespace: ns });
        open.push(cache);
        await cache.set('root', 1, { ttl: 600 });
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            cache.set(`leaf:${i}`, i, { ttl: 600, dependsOn: ['root', `mid:${i % 3}`] }),
          ),
        );
        expect(await cache.dependentsOf('root')).toHaveLength(20);
        await sleep(1_000);
        expect(await cache.dependentsOf('root')).toEqual([]);
        expect(await cache.dependentsOf('mid:1')).toEqual([]);
        expect(await cache.dependenciesOf('leaf:1')).toEqual([]);
        if (target.storedKeys !== undefined) expect(await target.storedKeys(ns)).toEqual([]);
      });

      it('cascades over a 10,000-node graph with second parents in one level per depth', async () => {
        const cache = make({ defaultTtl: 120_000 });
        const graph = benchmarkGraph();
        for (let i = 0; i < graph.length; i += 500) {
          await Promise.all(
            graph
              .slice(i, i + 500)
              .map((node) => cache.set(node.key, node.key, { dependsOn: node.dependsOn })),
          );
        }
        expect(await cache.dependentsOf('n0', { depth: 1 })).toHaveLength(10);
        const result = await cache.invalidate('n0');
        expect(result.keys).toHaveLength(10_000);
        expect(new Set(result.keys).size).toBe(10_000);
        expect(result.levels).toBe(5);
        // Rebuilt and invalidated again: the same walk (edges were kept and rewritten).
        await Promise.all(
          graph.slice(0, 111).map((node) => cache.set(node.key, 1, { dependsOn: node.dependsOn })),
        );
        const again = await cache.invalidate('n0');
        expect(again.keys).toHaveLength(111);
        expect(again.levels).toBe(3);
        for (const key of ['n0', 'n1', 'n57', 'n999', 'n5000', 'n9999'])
          expect(await cache.get(key)).toBeUndefined();
      }, 60_000);
    });

    describe('selective invalidation', () => {
      const build = async (cache: Cache) => {
        await cache.set('user:1', 'u');
        await cache.set('list:1', 'l', { dependsOn: ['user:1'] });
        await cache.set('page:list', 'p', { dependsOn: ['list:1'] });
        await cache.set('audit:1', 'a', { dependsOn: ['user:1'] });
      };

      it('removes only the key with cascade: false', async () => {
        const cache = make();
        await build(cache);
        expect((await cache.invalidate('user:1', { cascade: false })).keys).toEqual(['user:1']);
        expect(await cache.get('list:1')).toBe('l');
        // The dependents stay linked: a later full invalidation still reaches them.
        await cache.set('user:1', 'u2');
        expect((await cache.invalidate('user:1')).keys).toHaveLength(4);
      });

      it('stops at maxDepth', async () => {
        const cache = make();
        await build(cache);
        expect([...(await cache.invalidate('user:1', { maxDepth: 1 })).keys].sort()).toEqual([
          'audit:1',
          'list:1',
          'user:1',
        ]);
        expect(await cache.get('page:list')).toBe('p');
      });

      it('keeps what a filter refuses, and does not cascade through it', async () => {
        const cache = make();
        await build(cache);
        const seen: string[] = [];
        const result = await cache.invalidate('user:1', {
          filter: (key) => {
            seen.push(key);
            return !key.startsWith('list:');
          },
        });
        expect([...result.keys].sort()).toEqual(['audit:1', 'user:1']);
        expect(seen.sort()).toEqual(['audit:1', 'list:1']);
        expect(await cache.get('list:1')).toBe('l');
        expect(await cache.get('page:list')).toBe('p');
      });

      it('invalidates many roots in one walk', async () => {
        const cache = make();
        await build(cache);
        await cache.set('x', 1);
        const result = await cache.invalidateMany(['list:1', 'x', 'list:1']);
        expect([...result.keys].sort()).toEqual(['list:1', 'page:list', 'x']);
        expect(await cache.get('user:1')).toBe('u');
      });

      it('invalidates by pattern with SCAN, cascading from every match', async () => {
        const cache = make();
        for (let i = 0; i < 30; i++) await cache.set(`workflow:42:node:${i}`, i);
        await cache.set('workflow:42', 'w');
        await cache.set('workflow:43:node:1', 'other');
        await cache.set('render:42', 'r', { dependsOn: ['workflow:42:node:7'] });
        await cache.addDependency('graph-only:42', ['workflow:42:node:3']);
        const result = await cache.invalidatePattern('workflow:42:*');
        expect(result.keys).toHaveLength(32);
        expect(result.keys).toContain('render:42');
        expect(result.keys).toContain('graph-only:42');
        expect(await cache.get('workflow:42:node:5')).toBeUndefined();
        expect(await cache.get('render:42')).toBeUndefined();
        expect(await cache.get('workflow:42')).toBe('w');
        expect(await cache.get('workflow:43:node:1')).toBe('other');
        expect((await cache.invalidatePattern('nothing:*')).keys).toEqual([]);
        expect((await cache.invalidatePattern('workflow:4[3]:node:?')).keys).toEqual(['workflow:43:node:1']);
      });
    });

    describe('read events', () => {
      it('reports hits and misses of get and wrap, not getEntry or forced wraps', async () => {
        const events: unknown[] = [];
        const cache = make();
        const stop = cache.onRead((event) => events.push(event));
        await cache.get('k');
        await cache.set('k', 1);
        await cache.get('k');
        await cache.wrap('w', async () => 2);
        await cache.wrap('w', async () => 2);
        await cache.wrap('w', async () => 3, { force: true });
        await cache.getEntry('k');
        stop();
        await cache.get('k');
        expect(events).toEqual([
          { key: 'k', hit: false, stale: false, layer: undefined },
          { key: 'k', hit: true, stale: false, layer: 'store' },
          { key: 'w', hit: false, stale: false, layer: undefined },
          { key: 'w', hit: true, stale: false, layer: 'store' },
        ]);
      });

      it('survives a throwing listener and reports it to onError', async () => {
        const errors: unknown[] = [];
        const cache = make({ onError: (_error, context) => errors.push(context) });
        cache.onRead(() => {
          throw new Error('listener bug');
        });
        await cache.set('k', 1);
        expect(await cache.get('k')).toBe(1);
        expect(errors).toEqual([{ operation: 'listener', key: 'k' }]);
      });
    });

    it('refuses calls after close with CLOSED', async () => {
      const cache = make();
      await cache.close();
      const error = await cache.get('k').catch((e: unknown) => e);
      expect(isPlatError(error, 'CLOSED')).toBe(true);
    });
  });
}

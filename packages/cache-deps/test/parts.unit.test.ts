import { type Codec, createCache, createMemoryStore } from '../src';
import { decodeEntry, encodeEntry, isTombstone, versionOf } from '../src/entry';
import { globToRegExp } from '../src/glob';
import { slotOf } from '../src/slot';

describe('Redis glob patterns', () => {
  const matches = (pattern: string, key: string) => globToRegExp(pattern).test(key);

  it('matches like Redis MATCH', () => {
    expect(matches('workflow:42:*', 'workflow:42:node:1')).toBe(true);
    expect(matches('workflow:42:*', 'workflow:420')).toBe(false);
    expect(matches('*', '')).toBe(true);
    expect(matches('a?c', 'abc')).toBe(true);
    expect(matches('a?c', 'ac')).toBe(false);
    expect(matches('h[ae]llo', 'hallo')).toBe(true);
    expect(matches('h[^e]llo', 'hello')).toBe(false);
    expect(matches('h[^e]llo', 'hallo')).toBe(true);
    expect(matches('h[a-c]llo', 'hbllo')).toBe(true);
    expect(matches('h[a-c]llo', 'hdllo')).toBe(false);
    expect(matches('a\\*b', 'a*b')).toBe(true);
    expect(matches('a\\*b', 'axb')).toBe(false);
    expect(matches('a.b(c)', 'a.b(c)')).toBe(true);
    expect(matches('a.b', 'axb')).toBe(false);
    expect(matches('x[', 'x[')).toBe(true);
    expect(matches('line*', 'line\nbreak')).toBe(true);
  });
});

describe('Redis Cluster slots', () => {
  it('agrees with the values Redis documents', () => {
    expect(slotOf('123456789')).toBe(12739);
    expect(slotOf('foo')).toBe(12182);
  });

  it('hashes only a non-empty {tag}', () => {
    expect(slotOf('{user1000}.following')).toBe(slotOf('{user1000}.followers'));
    expect(slotOf('foo{bar}{zap}')).toBe(slotOf('bar'));
    expect(slotOf('foo{{bar}}zap')).toBe(slotOf('{bar'));
    expect(slotOf('foo{}{bar}')).toBe(slotOf('foo{}{bar}'));
    expect(slotOf('foo{}{bar}')).not.toBe(slotOf('bar'));
    // A node's keys always share a slot, whatever its name holds.
    for (const key of ['a{b}c', 'x}y', 'ünï', 'a:{}:b']) {
      expect(slotOf(`ns:{${key}}:v`)).toBe(slotOf(`ns:{${key}}:d`));
    }
  });
});

describe('stored entries', () => {
  it('round-trips metadata and payload, including separators in the payload', () => {
    const meta = {
      createdAt: 1_700_000_000_000,
      expiresAt: 1_700_000_060_000,
      staleUntil: 1_700_000_070_000,
      computeMs: 12,
    };
    const text = encodeEntry(meta, '{"a":"x|y|z"}');
    expect(decodeEntry(text)).toEqual({ ...meta, payload: '{"a":"x|y|z"}' });
    const none = encodeEntry(
      { createdAt: 5, expiresAt: undefined, staleUntil: undefined, computeMs: undefined },
      '1',
    );
    expect(decodeEntry(none)).toEqual({
      createdAt: 5,
      expiresAt: undefined,
      staleUntil: undefined,
      computeMs: undefined,
      payload: '1',
    });
  });

  it('refuses text in another format', () => {
    expect(decodeEntry('{"a":1}')).toBeUndefined();
    expect(decodeEntry('1|abc|||')).toBeUndefined();
    expect(decodeEntry('1|5|x|||1')).toBeUndefined();
    expect(decodeEntry('0|token')).toBeUndefined();
  });

  it('tells tombstones and versions apart', () => {
    expect(isTombstone('0|abc')).toBe(true);
    expect(isTombstone('1|5||||x')).toBe(false);
    expect(versionOf('1|1700000000000|99|', '')).toBe('1|1700000000000#');
    expect(versionOf('0|tok', 'g')).toBe('0|tok#g');
    expect(versionOf('', '')).toBe('#');
  });
});

describe('createCache options', () => {
  it('refuses invalid options with INVALID_OPTIONS naming the option', () => {
    const invalid = expect.objectContaining({ code: 'INVALID_OPTIONS' });
    expect(() => createCache({ namespace: 'has space' })).toThrow(invalid);
    expect(() => createCache({ namespace: 'a{b}' })).toThrow(invalid);
    expect(() => createCache({ defaultTtl: 0 })).toThrow(invalid);
    expect(() => createCache({ defaultTtl: Number.NaN })).toThrow(/defaultTtl/);
    expect(() => createCache({ grace: -1 })).toThrow(/grace/);
    expect(() => createCache({ codec: {} as Codec })).toThrow(/codec/);
    expect(() => createCache({ l1: true })).toThrow(/l1 needs a store/);
    expect(() => createCache({ onRead: 5 as never })).toThrow(/onRead/);
    expect(() => createMemoryStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });

  it('uses a custom codec for every value', async () => {
    const codec: Codec = {
      encode: (value) => `v1:${JSON.stringify(value)}`,
      decode: (text) => JSON.parse(text.slice(3)),
    };
    const cache = createCache({ codec });
    await cache.set('k', { a: [1, 2] });
    expect(await cache.get('k')).toEqual({ a: [1, 2] });
  });

  it('reports an undecodable entry to onError and answers a miss', async () => {
    const errors: unknown[] = [];
    const codec: Codec = {
      encode: (value) => JSON.stringify(value),
      decode: () => {
        throw new SyntaxError('bad');
      },
    };
    const cache = createCache({ codec, onError: (error, context) => errors.push({ error, context }) });
    await cache.set('k', 1);
    expect(await cache.get('k')).toBeUndefined();
    expect(errors).toEqual([
      {
        error: expect.objectContaining({ code: 'INVALID_VALUE' }),
        context: { operation: 'decode', key: 'k' },
      },
    ]);
  });
});

describe('the memory store', () => {
  it('evicts the least recently used entries beyond maxEntries', async () => {
    const store = createMemoryStore({ maxEntries: 3 });
    const cache = createCache({ store });
    for (const key of ['a', 'b', 'c']) await cache.set(key, key);
    await cache.get('a');
    await cache.set('d', 'd');
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe('a');
    expect(await cache.get('d')).toBe('d');
    await store.close();
  });

  it('keeps namespaces apart', async () => {
    const store = createMemoryStore();
    const one = createCache({ store, namespace: 'one' });
    const two = createCache({ store, namespace: 'two' });
    await one.set('k', 1, { dependsOn: ['u'] });
    await two.set('k', 2, { dependsOn: ['u'] });
    await one.invalidate('u');
    expect(await one.get('k')).toBeUndefined();
    expect(await two.get('k')).toBe(2);
    await store.close();
    await expect(two.get('k')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

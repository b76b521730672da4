import { randomInt } from 'node:crypto';
import { API_KEY_SHAPE } from '@plat/core';
import {
  type ApiKeyManager,
  type ApiKeyManagerOptions,
  type ApiKeyStore,
  createApiKeyManager,
  createSqliteKeyStore,
  formatApiKey,
  parseApiKey,
} from '../src';
import { checksumOf } from '../src/key-format';
import { countingStore, errorLog, manualClock, PEPPER } from './helpers';

describe('options', () => {
  const store = createSqliteKeyStore({ filename: ':memory:' });
  afterAll(() => store.close());
  const make = (options: Partial<ApiKeyManagerOptions>) => () =>
    createApiKeyManager({ store, peppers: [PEPPER], ...options } as ApiKeyManagerOptions);

  it.each([
    ['no peppers', { peppers: [] }],
    ['a short pepper', { peppers: [{ id: 'p', secret: 'short' }] }],
    ['a pepper listed twice', { peppers: [PEPPER, PEPPER] }],
    ['a bad prefix', { prefix: 'Plat-Live' }],
    ['too many prefix segments', { prefix: 'a_b_c_d' }],
    ['no store', { store: undefined as unknown as ApiKeyStore }],
    ['a bad expiry', { defaultExpiresInDays: -3 }],
    ['a bad cache size', { cache: { maxEntries: 0 } }],
    ['auto rotation without a hook', { autoRotation: {} as never }],
    ['a short encryption key', { encryption: { keys: [{ id: 'k', key: Buffer.alloc(16) }] } }],
  ])('refuses %s with INVALID_OPTIONS, naming no secret', (_label, options) => {
    let thrown: unknown;
    try {
      make(options)();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'ApiKeyError', code: 'INVALID_OPTIONS' });
    expect(String((thrown as Error).message)).not.toContain('short');
  });

  it('refuses a bad store configuration', () => {
    expect(() => createSqliteKeyStore({ filename: '' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});

describe('validation hot path', () => {
  let base: ApiKeyStore;
  let calls: Record<string, number>;
  let store: ApiKeyStore;
  const managers: ApiKeyManager[] = [];
  const manager = (options: Partial<ApiKeyManagerOptions> = {}) => {
    const m = createApiKeyManager({ store, peppers: [PEPPER], ...options });
    managers.push(m);
    return m;
  };

  beforeEach(async () => {
    base = createSqliteKeyStore({ filename: ':memory:' });
    ({ store, calls } = countingStore(base));
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
    await base.close();
  });

  it('answers a cached key synchronously, without reading the store', async () => {
    const keys = manager();
    const { key } = await keys.create({ ownerId: 'o', name: 'k', scopes: ['a'] });
    expect((await keys.validate(key)).valid).toBe(true);
    const reads = calls.find;
    for (let i = 0; i < 1000; i++) {
      const outcome = keys.check(key, { requiredScopes: ['a'] });
      expect(outcome).not.toBeInstanceOf(Promise);
      expect(outcome).toMatchObject({ valid: true });
    }
    expect(calls.find).toBe(reads);
    // The same frozen result object every time: nothing allocated per hit.
    expect(keys.check(key)).toBe(keys.check(key));
    expect(Object.isFrozen(keys.check(key))).toBe(true);
  });

  it('reads the store on every call with the cache off', async () => {
    const keys = manager({ cache: false });
    const { key } = await keys.create({ ownerId: 'o', name: 'k' });
    const reads = calls.find ?? 0;
    for (let i = 0; i < 5; i++) expect((await keys.validate(key)).valid).toBe(true);
    expect(calls.find).toBe(reads + 5);
  });

  it('trusts a cached entry no longer than its TTL', async () => {
    const clock = manualClock();
    const keys = manager({ clock: clock.now, cache: { ttlSeconds: 30 } });
    const { key } = await keys.create({ ownerId: 'o', name: 'k' });
    await keys.validate(key);
    const reads = calls.find ?? 0;
    clock.advance(29_999);
    await keys.validate(key);
    expect(calls.find).toBe(reads);
    clock.advance(1);
    await keys.validate(key);
    expect(calls.find).toBe(reads + 1);
  });

  it('keeps the cache bounded', async () => {
    const keys = manager({ cache: { maxEntries: 50 } });
    const issued = await Promise.all(
      Array.from({ length: 200 }, (_, i) => keys.create({ ownerId: 'o', name: `k${i}` })),
    );
    for (const { key } of issued) expect((await keys.validate(key)).valid).toBe(true);
    const reads = calls.find ?? 0;
    // The 40 most recent are still cached; the first ones were evicted.
    for (const { key } of issued.slice(-20)) await keys.validate(key);
    expect(calls.find).toBe(reads);
    for (const { key } of issued.slice(0, 20)) await keys.validate(key);
    expect(calls.find).toBe(reads + 20);
  });

  it('issues keys with the configured prefix', async () => {
    const keys = manager({ prefix: 'acme_test' });
    const { key } = await keys.create({ ownerId: 'o', name: 'k' });
    expect(key.startsWith('acme_test_')).toBe(true);
    expect((await keys.validate(key)).valid).toBe(true);
  });

  it('fails a validation with STORE_UNAVAILABLE when the store is gone, without the key in the error', async () => {
    const log = errorLog();
    const own = createSqliteKeyStore({ filename: ':memory:' });
    const keys = createApiKeyManager({ store: own, peppers: [PEPPER], onError: log.onError });
    const { key } = await keys.create({ ownerId: 'o', name: 'k' });
    await own.close();
    const error = await keys.validate(key).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(error).toMatchObject({ name: 'ApiKeyError', code: 'STORE_UNAVAILABLE' });
    const { secret } = parseApiKey(key)!;
    expect(`${error!.message} ${error!.stack} ${JSON.stringify(error)}`).not.toContain(secret);
    await keys.close().catch(() => {});
  });

  it('survives 100,000 random and mutated strings without a throw or a read for a bad checksum', async () => {
    const keys = manager();
    const valid = await Promise.all(
      Array.from({ length: 20 }, (_, i) => keys.create({ ownerId: 'o', name: `k${i}` })),
    );
    const alphabet = `${API_KEY_SHAPE.alphabet}_-. /+=\u0000\u00e9\u{1F511}\n`;
    const randomString = () => {
      let out = '';
      const length = randomInt(0, 140);
      for (let i = 0; i < length; i++) out += alphabet[randomInt(0, alphabet.length)];
      return out;
    };
    const mutate = (key: string) => {
      let out = key;
      for (let n = randomInt(1, 4); n > 0; n--) {
        const at = randomInt(0, out.length + 1);
        const char = alphabet[randomInt(0, alphabet.length)]!;
        switch (randomInt(0, 6)) {
          case 0:
            out = out.slice(0, at) + char + out.slice(at + 1);
            break;
          case 1:
            out = out.slice(0, at) + char + out.slice(at);
            break;
          case 2:
            out = out.slice(0, at) + out.slice(at + 1);
            break;
          case 3:
            out = out.slice(0, at) + (out[at + 1] ?? '') + (out[at] ?? '') + out.slice(at + 2);
            break;
          case 4:
            out = out.slice(0, at);
            break;
          default:
            out = out.toUpperCase();
        }
      }
      return out;
    };
    // Well-formed keys with a correct checksum but unknown ids or wrong secrets: these may read.
    const checksummed = () => {
      const body = `plat_live_${randomString()
        .replace(/[^0-9A-Za-z]/g, 'a')
        .padEnd(12, 'b')
        .slice(0, 12)}_${'c'.repeat(32)}`;
      return `${body}_${checksumOf(body)}`;
    };
    let badChecksum = 0;
    let goodChecksum = 0;
    for (let i = 0; i < 100_000; i++) {
      const kind = i % 10;
      const candidate =
        kind < 5 ? randomString() : kind < 9 ? mutate(valid[i % valid.length]!.key) : checksummed();
      const before = calls.find ?? 0;
      const result = await keys.validate(candidate);
      // Plain checks: jest's expect() costs ~150 µs a call, too much for 100,000 iterations.
      if (typeof result.valid !== 'boolean') throw new Error(`no verdict for ${JSON.stringify(candidate)}`);
      if (parseApiKey(candidate) === undefined) {
        badChecksum++;
        if (result.valid || result.reason !== 'MALFORMED') {
          throw new Error(`${JSON.stringify(candidate)} was not MALFORMED: ${JSON.stringify(result)}`);
        }
        if ((calls.find ?? 0) !== before)
          throw new Error(`store read for a malformed string: ${JSON.stringify(candidate)}`);
      } else goodChecksum++;
    }
    expect(badChecksum).toBeGreaterThan(85_000);
    expect(goodChecksum).toBeGreaterThan(5_000);
    expect(calls.find ?? 0).toBeLessThanOrEqual(goodChecksum);
    for (const { key } of valid) expect((await keys.validate(key)).valid).toBe(true);
    // Non-strings are malformed too.
    for (const value of [undefined, null, 1, {}, [], Symbol('k'), () => 'k']) {
      expect(await keys.validate(value)).toEqual({ valid: false, reason: 'MALFORMED' });
    }
  });

  it('leaves migrations to the operator with migrate: false, and recovers once they ran', async () => {
    const keys = manager({ migrate: false });
    await expect(keys.create({ ownerId: 'o', name: 'k' })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    expect(calls.migrate).toBeUndefined();
    await store.migrate();
    const { key } = await keys.create({ ownerId: 'o', name: 'k' });
    expect((await keys.validate(key)).valid).toBe(true);
  });

  it('checks a presented key against its own prefix', async () => {
    const keys = manager({ prefix: 'acme' });
    const { key, keyId } = await keys.create({ ownerId: 'o', name: 'k' });
    const { secret } = parseApiKey(key)!;
    expect(await keys.validate(formatApiKey('plat_live', keyId, secret))).toMatchObject({
      reason: 'NOT_FOUND',
    });
  });
});

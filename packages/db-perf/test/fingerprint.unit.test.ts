import { fingerprintOf, normalizeSql } from '../src';
import { captureStack, resolveCallSite } from '../src/call-site';
import { FingerprintCache, hashParameters } from '../src/fingerprint';

describe('normalizeSql', () => {
  it.each([
    ['select * from "users" where "id" = $1', 'select * from "users" where "id" = ?'],
    [
      "select * from users where id = 42 and name = 'O''Brien'",
      'select * from users where id = ? and name = ?',
    ],
    ['select * from "t" where "id" in ($1, $2, $3)', 'select * from "t" where "id" in (?...)'],
    ['select * from "t" where "id" in ($1)', 'select * from "t" where "id" in (?)'],
    [
      'insert into "t" ("a", "b") values ($1, $2), ($3, $4), ($5, $6)',
      'insert into "t" ("a", "b") values (?...), ...',
    ],
    ['select  *\n  from t -- comment\n where x = ?  /* hint */ ;', 'select * from t where x = ?'],
    ['select $tag$ raw $1 text $tag$, E\'\\n\', 1.5e3, -2 from "t1"', 'select ?, ?, ?, -? from "t1"'],
    ['select "col2", x::int from "weird ""name"""', 'select "col2", x::int from "weird ""name"""'],
  ])('folds %s', (sql, expected) => {
    expect(normalizeSql(sql)).toBe(expected);
  });

  it('gives every list length and every value the same fingerprint', () => {
    const a = fingerprintOf(`select * from "users" where "id" in ($1, $2) and "email" = 'a@example.com'`);
    const b = fingerprintOf(
      `select * from "users" where "id" in ($1, $2, $3, $4) and "email" = 'b@example.com'`,
    );
    expect(a.id).toBe(b.id);
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(a.text).not.toContain('example.com');
    expect(a.verb).toBe('select');
  });

  it('keeps different shapes apart', () => {
    expect(fingerprintOf('select * from t where a = $1').id).not.toBe(
      fingerprintOf('select * from t where b = $1').id,
    );
  });

  it('caches by SQL text and stays bounded', () => {
    const cache = new FingerprintCache(2);
    const first = cache.get('select 1');
    expect(cache.get('select 1')).toBe(first);
    cache.get('select 2');
    cache.get('select 3');
    expect(cache.get('select 1')).not.toBe(first); // evicted, recomputed
    expect(cache.get('select 1')).toEqual(first);
  });
});

describe('hashParameters', () => {
  it('tells different values apart without keeping them', () => {
    expect(hashParameters([1, 'a'])).toBe(hashParameters([1, 'a']));
    expect(hashParameters([1])).not.toBe(hashParameters([2]));
    expect(hashParameters(['1'])).not.toBe(hashParameters([1]));
    expect(typeof hashParameters([new Date(0), Buffer.from('x'), { a: 1 }, null, 10n])).toBe('number');
  });
});

describe('call sites', () => {
  function issueQuery() {
    return captureStack();
  }
  it('resolves to the first frame outside the package', () => {
    const site = resolveCallSite(issueQuery());
    expect(site?.file).toMatch(/fingerprint\.unit\.test\.ts$/);
    expect(site?.line).toBeGreaterThan(0);
    expect(site?.text).toContain('fingerprint.unit.test.ts:');
  });
  it('skips files the caller marks as their data layer', () => {
    const site = resolveCallSite(issueQuery(), [/fingerprint\.unit\.test\.ts/]);
    expect(site?.file ?? '').not.toMatch(/fingerprint\.unit\.test\.ts$/);
  });
});

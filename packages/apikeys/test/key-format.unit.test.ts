import { API_KEY_SHAPE, looksLikeApiKey, redactApiKeys } from '@plat/core';
import { formatApiKey, isWellFormedApiKey, parseApiKey } from '../src';
import { checksumOf, crc32, generateKeyId, randomBase62 } from '../src/key-format';

const newKey = (prefix = 'plat_live') =>
  formatApiKey(prefix, generateKeyId(), randomBase62(API_KEY_SHAPE.secretLength));

describe('key format', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
  });

  it('issues keys of the shape @plat/core and @plat/logging recognise', () => {
    for (const prefix of ['plat_live', 'acme', 'a_b_c', 'svc2_test']) {
      for (let i = 0; i < 200; i++) {
        const key = newKey(prefix);
        expect(looksLikeApiKey(key)).toBe(true);
        const parsed = parseApiKey(key)!;
        expect(parsed).toMatchObject({ prefix });
        expect(parsed.keyId).toHaveLength(API_KEY_SHAPE.keyIdLength);
        expect(parsed.secret).toHaveLength(API_KEY_SHAPE.secretLength);
        expect(parsed.checksum).toBe(checksumOf(parsed.body));
        const line = `GET /v1 Authorization: Bearer ${key} ok`;
        const redacted = redactApiKeys(line);
        expect(redacted).not.toContain(parsed.secret);
        expect(redacted).toContain(`${prefix}_${parsed.keyId}_[REDACTED]`);
      }
    }
  });

  it('rejects every single-character change through the checksum', () => {
    const key = newKey();
    const alphabet = API_KEY_SHAPE.alphabet;
    let checked = 0;
    for (let i = 0; i < key.length; i++) {
      for (const replacement of [alphabet[(alphabet.indexOf(key[i]!) + 1) % 62]!, '_', 'x']) {
        if (replacement === key[i]) continue;
        const mutated = key.slice(0, i) + replacement + key.slice(i + 1);
        expect(isWellFormedApiKey(mutated)).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(key.length * 2);
    // Swapping two adjacent different characters is also caught (CRC detects all such bursts).
    const parts = parseApiKey(key)!;
    const swapAt = parts.body.length - 3;
    const swapped = `${key.slice(0, swapAt)}${key[swapAt + 1]}${key[swapAt]}${key.slice(swapAt + 2)}`;
    if (swapped !== key) expect(isWellFormedApiKey(swapped)).toBe(false);
  });

  it('refuses wrong shapes without throwing', () => {
    const key = newKey();
    for (const value of [
      undefined,
      null,
      42,
      {},
      '',
      key.toUpperCase(),
      `${key}x`,
      key.slice(1),
      `Bearer ${key}`,
      key.replace('plat_live', 'Plat_live'),
      key.replace('plat_live', 'plat_live_a_b'),
      'x'.repeat(10_000),
    ]) {
      expect(parseApiKey(value)).toBeUndefined();
    }
  });

  it('draws secrets uniformly over base62 (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const sample = randomBase62(62 * 2000);
    for (const char of sample) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Chi-square with 61 degrees of freedom: p < 1e-6 above ~125. A `byte % 62` bias (the first 8
    // characters 25% more likely) would score in the thousands.
    let chi = 0;
    for (const count of counts.values()) chi += (count - 2000) ** 2 / 2000;
    expect(chi).toBeLessThan(125);
  });

  it('never repeats key ids or secrets in a large sample', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20_000; i++) ids.add(generateKeyId());
    expect(ids.size).toBe(20_000);
  });
});

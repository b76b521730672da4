import { API_KEY_SHAPE, looksLikeApiKey, redactApiKeys } from '../src';

const id = '4fQ9aB7cD2eF';
const secret = 'Zk2Lm9Np0Qr8St7Uv6Wx5Yz4Ab3Cd2Ef';
const check = '0aB3xY';
const key = `plat_live_${id}_${secret}_${check}`;

describe('API key shape', () => {
  it('recognises well-formed keys with one to three prefix segments', () => {
    expect(secret).toHaveLength(API_KEY_SHAPE.secretLength);
    expect(looksLikeApiKey(key)).toBe(true);
    expect(looksLikeApiKey(`acme_${id}_${secret}_${check}`)).toBe(true);
    expect(looksLikeApiKey(`a_b_c_${id}_${secret}_${check}`)).toBe(true);
  });

  it('rejects near misses', () => {
    expect(looksLikeApiKey(`a_b_c_d_${id}_${secret}_${check}`)).toBe(false);
    expect(looksLikeApiKey(key.slice(0, -1))).toBe(false);
    expect(looksLikeApiKey(key.replace('Zk2', 'Zk-'))).toBe(false);
    expect(looksLikeApiKey(`PLAT_${id}_${secret}_${check}`)).toBe(false);
    expect(looksLikeApiKey(` ${key}`)).toBe(false);
  });

  it('redacts keys inside text, keeping prefix and key id', () => {
    const text = `auth=Bearer ${key}; retry with "${key}" please`;
    const out = redactApiKeys(text);
    expect(out).not.toContain(secret);
    expect(out).toBe(
      `auth=Bearer plat_live_${id}_[REDACTED]; retry with "plat_live_${id}_[REDACTED]" please`,
    );
    // Glued to other text, the key is still found: a secret is never left in a log line.
    expect(redactApiKeys(`token:${key}`)).toBe(`token:plat_live_${id}_[REDACTED]`);
    expect(redactApiKeys(`x${key}`)).not.toContain(secret);
  });

  it('leaves ordinary text alone and stays linear on adversarial input', () => {
    expect(redactApiKeys('user_id_42 and snake_case_words')).toBe('user_id_42 and snake_case_words');
    const adversarial = `${'a_'.repeat(50_000)}${'b'.repeat(50_000)}`;
    const started = process.hrtime.bigint();
    expect(redactApiKeys(adversarial)).toBe(adversarial);
    // Generous bound: a backtracking blow-up would take seconds to minutes, not milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });
});

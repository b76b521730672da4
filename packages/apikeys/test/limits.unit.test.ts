import { type LimitSubject, MemoryLimiter, slidingWindowWait } from '../src/limits';

const subject = (over: Partial<LimitSubject> = {}): LimitSubject => ({
  keyId: 'k1',
  rateLimit: null,
  quota: null,
  quotaSeedPeriod: null,
  quotaSeedUsed: 0,
  ...over,
});

describe('sliding window', () => {
  it('lets requests through under the limit and computes the wait above it', () => {
    expect(slidingWindowWait(10, 1000, 0, 9, 0)).toBe(0);
    // Current window full: the wait reaches into the next window until the weighted count drops.
    expect(slidingWindowWait(10, 1000, 200, 10, 0)).toBe(801);
    // Previous window weighs 50% at the middle: 20 * 0.5 + 0 = 10 >= 10 ⇒ wait until it weighs < 10.
    const wait = slidingWindowWait(10, 1000, 500, 0, 20);
    expect(wait).toBeGreaterThan(0);
    expect(slidingWindowWait(10, 1000, 500 + wait, 0, 20)).toBe(0);
  });

  it('never allows more than the limit in any window of steady traffic', () => {
    const limiter = new MemoryLimiter();
    const key = subject({ rateLimit: { limit: 50, windowSeconds: 1 } });
    const accepted: number[] = [];
    // One attempt every 5 ms for 10 s.
    for (let t = 1_000_000; t < 1_010_000; t += 5) {
      if (limiter.consume(key, t) === undefined) accepted.push(t);
    }
    let worst = 0;
    for (let i = 0, j = 0; i < accepted.length; i++) {
      while (accepted[i]! - accepted[j]! >= 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    // The two-counter estimate tolerates a small overshoot at window edges; bound it at 10%.
    expect(worst).toBeLessThanOrEqual(55);
    // And it does not starve the key: about the limit per second gets through.
    expect(accepted.length).toBeGreaterThan(450);
    expect(accepted.length).toBeLessThan(560);
  });

  it('says when to retry, and the retry time really works', () => {
    const limiter = new MemoryLimiter();
    const key = subject({ rateLimit: { limit: 3, windowSeconds: 10 } });
    const t0 = 5_000_000;
    for (let i = 0; i < 3; i++) expect(limiter.consume(key, t0 + i)).toBeUndefined();
    const refused = limiter.consume(key, t0 + 3);
    expect(refused).toMatchObject({ reason: 'RATE_LIMITED' });
    expect(limiter.consume(key, t0 + 3 + refused!.retryAfterMs - 2)).toMatchObject({
      reason: 'RATE_LIMITED',
    });
    expect(limiter.consume(key, t0 + 3 + refused!.retryAfterMs)).toBeUndefined();
  });
});

describe('quota', () => {
  it('refills at each period boundary and says when', () => {
    const limiter = new MemoryLimiter();
    const key = subject({ quota: { limit: 2, periodSeconds: 60 } });
    const start = 60_000 * 1000;
    expect(limiter.consume(key, start + 10)).toBeUndefined();
    expect(limiter.consume(key, start + 20)).toBeUndefined();
    expect(limiter.consume(key, start + 30)).toEqual({ reason: 'QUOTA_EXCEEDED', retryAfterMs: 60_000 - 30 });
    expect(limiter.consume(key, start + 60_000)).toBeUndefined();
  });

  it('starts from the usage the store had for the current period', () => {
    const limiter = new MemoryLimiter();
    const start = 60_000 * 1000;
    const key = subject({ quota: { limit: 5, periodSeconds: 60 }, quotaSeedPeriod: start, quotaSeedUsed: 4 });
    expect(limiter.consume(key, start + 1)).toBeUndefined();
    expect(limiter.consume(key, start + 2)).toMatchObject({ reason: 'QUOTA_EXCEEDED' });
    // A seed from an earlier period does not count.
    const fresh = subject({
      keyId: 'k2',
      quota: { limit: 5, periodSeconds: 60 },
      quotaSeedPeriod: start - 60_000,
      quotaSeedUsed: 5,
    });
    expect(limiter.consume(fresh, start + 1)).toBeUndefined();
  });

  it('does not spend quota on rate-limited requests', () => {
    const limiter = new MemoryLimiter();
    const key = subject({
      rateLimit: { limit: 1, windowSeconds: 60 },
      quota: { limit: 2, periodSeconds: 3600 },
    });
    const t = 3600_000 * 100;
    expect(limiter.consume(key, t)).toBeUndefined();
    expect(limiter.consume(key, t + 1)).toMatchObject({ reason: 'RATE_LIMITED' });
    expect(limiter.consume(key, t + 1)).toMatchObject({ reason: 'RATE_LIMITED' });
    expect(limiter.consume(key, t + 120_000)).toBeUndefined();
    expect(limiter.consume(key, t + 240_000)).toMatchObject({ reason: 'QUOTA_EXCEEDED' });
  });

  it('forgets idle keys', () => {
    const limiter = new MemoryLimiter();
    const key = subject({ rateLimit: { limit: 1, windowSeconds: 1 } });
    expect(limiter.consume(key, 1000)).toBeUndefined();
    limiter.prune(1500);
    expect(limiter.consume(key, 1600)).toMatchObject({ reason: 'RATE_LIMITED' });
    limiter.prune(10_000);
    expect(limiter.consume(key, 10_000)).toBeUndefined();
  });
});

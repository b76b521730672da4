import { isPlatError, toProblem } from '@plat/core';
import { createBulkhead, DbPerfError, dbPerfErrorStatus, gatherWithConcurrency } from '../src';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('gatherWithConcurrency', () => {
  it('keeps at most n tasks in flight and returns results in order', async () => {
    let running = 0;
    let peak = 0;
    const tasks = Array.from({ length: 12 }, (_, i) => async () => {
      running++;
      peak = Math.max(peak, running);
      await tick(1 + (i % 3));
      running--;
      return i * 2;
    });
    expect(await gatherWithConcurrency(3, tasks)).toEqual(Array.from({ length: 12 }, (_, i) => i * 2));
    expect(peak).toBe(3);
  });

  it('rejects on the first failure and starts nothing more', async () => {
    const started: number[] = [];
    const tasks = Array.from({ length: 10 }, (_, i) => async () => {
      started.push(i);
      await tick(1);
      if (i === 1) throw new Error('boom');
      return i;
    });
    await expect(gatherWithConcurrency(2, tasks)).rejects.toThrow('boom');
    await tick(20);
    // The two in flight, plus at most one slot refilled as each of them settled.
    expect(started.length).toBeLessThanOrEqual(4);
  });

  it('rejects a bad concurrency with a typed error', async () => {
    await expect(gatherWithConcurrency(0, [])).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});

describe('createBulkhead', () => {
  it('sheds work beyond its queue with OVERLOADED while admitted work completes', async () => {
    const bulkhead = createBulkhead({ concurrency: 2, maxQueue: 2, queueTimeoutMs: 5000, name: 'orders-db' });
    const g = gate();
    const ran: number[] = [];
    const work = (i: number) => async () => {
      await g.opened;
      ran.push(i);
      return i;
    };
    const admitted = [0, 1, 2, 3].map((i) => bulkhead.run(work(i)));
    await tick();
    expect(bulkhead.stats()).toMatchObject({ active: 2, queued: 2 });
    const shed = await Promise.allSettled([bulkhead.run(work(4)), bulkhead.run(work(5))]);
    for (const outcome of shed) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(DbPerfError);
      expect(isPlatError(error, 'OVERLOADED')).toBe(true);
      expect(error.details).toMatchObject({
        bulkhead: 'orders-db',
        reason: 'queue-full',
        active: 2,
        queued: 2,
      });
      expect(error.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    g.open();
    expect(await Promise.all(admitted)).toEqual([0, 1, 2, 3]);
    expect(ran.sort()).toEqual([0, 1, 2, 3]);
    expect(bulkhead.stats()).toMatchObject({ active: 0, queued: 0, admitted: 4, completed: 4, rejected: 2 });
  });

  it('answers 503 with Retry-After through the core problem conversion', async () => {
    const bulkhead = createBulkhead({ concurrency: 1, maxQueue: 0 });
    const g = gate();
    const running = bulkhead.run(() => g.opened);
    const error = await bulkhead.run(() => 1).catch((e: unknown) => e);
    const problem = toProblem(error, dbPerfErrorStatus, '/reports');
    expect(problem.status).toBe(503);
    expect(problem.headers['retry-after']).toMatch(/^\d+$/);
    expect(problem.body).toMatchObject({ code: 'OVERLOADED', active: 1, queued: 0 });
    g.open();
    await running;
  });

  it('rejects work that waited longer than queueTimeoutMs', async () => {
    const bulkhead = createBulkhead({ concurrency: 1, maxQueue: 5, queueTimeoutMs: 20 });
    const g = gate();
    const running = bulkhead.run(() => g.opened);
    const fn = jest.fn();
    await expect(bulkhead.run(fn)).rejects.toMatchObject({
      code: 'OVERLOADED',
      details: { reason: 'queue-timeout' },
    });
    expect(fn).not.toHaveBeenCalled();
    expect(bulkhead.stats()).toMatchObject({ timedOut: 1, queued: 0 });
    g.open();
    await running;
  });

  it('stops waiting when the caller aborts, and frees the queue place', async () => {
    const bulkhead = createBulkhead({ concurrency: 1, maxQueue: 1 });
    const g = gate();
    const running = bulkhead.run(() => g.opened);
    const controller = new AbortController();
    const waiting = bulkhead.run(() => 'never', { signal: controller.signal });
    await tick();
    controller.abort(new Error('client left'));
    await expect(waiting).rejects.toThrow('client left');
    expect(bulkhead.stats().queued).toBe(0);
    const next = bulkhead.run(() => 'next');
    g.open();
    await running;
    expect(await next).toBe('next');
  });

  it('releases the slot when work throws', async () => {
    const bulkhead = createBulkhead({ concurrency: 1, maxQueue: 0 });
    await expect(bulkhead.run(() => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await bulkhead.run(() => 'ok')).toBe('ok');
  });

  it('validates its options', () => {
    expect(() => createBulkhead({ concurrency: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => createBulkhead({ concurrency: 1, maxQueue: -1 })).toThrow(/maxQueue/);
    expect(() => createBulkhead({ concurrency: 1, queueTimeoutMs: 0 })).toThrow(/queueTimeoutMs/);
  });
});

import {
  annotateRequest,
  createContextSlot,
  createRequestContext,
  currentContext,
  resolveRequestId,
  runWithContext,
  setPrincipal,
} from '../src';

const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));

describe('request context', () => {
  it('is undefined outside a request', () => {
    expect(currentContext()).toBeUndefined();
    expect(setPrincipal({ id: 'nobody' })).toBe(false);
  });

  it('survives awaits, timers and promise chains', async () => {
    const seen = await runWithContext({ requestId: 'req-1' }, async () => {
      const ids: Array<string | undefined> = [currentContext()?.requestId];
      await tick();
      ids.push(currentContext()?.requestId);
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          ids.push(currentContext()?.requestId);
          resolve();
        }),
      );
      ids.push(await Promise.resolve().then(() => currentContext()?.requestId));
      return ids;
    });
    expect(seen).toEqual(['req-1', 'req-1', 'req-1', 'req-1']);
  });

  it('keeps 200 concurrent requests apart', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        runWithContext({ requestId: `r${i}` }, async () => {
          await tick(Math.random() * 5);
          setPrincipal({ id: `user-${i}`, tenantId: `t${i % 3}` });
          await tick(Math.random() * 5);
          const ctx = currentContext()!;
          return `${ctx.requestId}/${ctx.principal?.id}/${ctx.tenantId}`;
        }),
      ),
    );
    expect(results).toEqual(results.map((_, i) => `r${i}/user-${i}/t${i % 3}`));
  });

  it('re-enters an existing context object', async () => {
    const ctx = createRequestContext({ requestId: 'job-7', method: 'JOB' });
    await runWithContext(ctx, async () => {
      await tick();
      expect(currentContext()).toBe(ctx);
    });
    expect(ctx.startedAt).toBeLessThanOrEqual(Date.now());
  });

  it('gives each package its own slot, shared by copies of the package', () => {
    const a = createContextSlot<number>('@plat/a.counter');
    const b = createContextSlot<number>('@plat/b.counter');
    const aFromAnotherCopy = createContextSlot<number>('@plat/a.counter');
    expect(a.set(1)).toBe(false);
    runWithContext({}, () => {
      expect(a.getOrCreate(() => 1)).toBe(1);
      expect(a.getOrCreate(() => 2)).toBe(1);
      expect(b.get()).toBeUndefined();
      b.set(5);
      expect(a.get()).toBe(1);
      expect(b.get()).toBe(5);
      expect(aFromAnotherCopy.get()).toBe(1);
    });
  });

  it('collects request annotations for the request summary', () => {
    expect(annotateRequest({ x: 1 })).toBe(false);
    runWithContext({}, () => {
      annotateRequest({ 'db.queries': 3 });
      annotateRequest({ 'db.queries': 4, 'apikey.id': 'k1' });
      expect(currentContext()?.annotations).toEqual({ 'db.queries': 4, 'apikey.id': 'k1' });
    });
  });

  it('accepts only short plain request ids from callers', () => {
    expect(resolveRequestId('abc-123')).toBe('abc-123');
    expect(resolveRequestId(['first', 'second'])).toBe('first');
    const uuid = /^[0-9a-f-]{36}$/;
    expect(resolveRequestId(undefined)).toMatch(uuid);
    expect(resolveRequestId('has space')).toMatch(uuid);
    expect(resolveRequestId('x'.repeat(129))).toMatch(uuid);
    expect(resolveRequestId('line\nbreak')).toMatch(uuid);
  });
});

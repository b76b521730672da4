import { performance } from 'node:perf_hooks';
import { isPlatError } from '@plat/core';
import {
  type CheckContext,
  createHealth,
  type Health,
  type HealthCheck,
  HealthError,
  type HealthOptions,
} from '../src';
import { recordingLogger, sleep } from './support/logger';

const made: Health[] = [];
function health(options: HealthOptions = {}): Health {
  const h = createHealth({ eventLoop: false, logger: recordingLogger(), ...options });
  made.push(h);
  return h;
}
afterEach(() => {
  for (const h of made.splice(0)) h.close();
});

/** A check that counts its runs and answers what `answer` says at the time. */
function counted(
  name: string,
  answer: (context: CheckContext) => ReturnType<HealthCheck['run']>,
  extra: Partial<HealthCheck> = {},
): HealthCheck & { runs: number } {
  const check = {
    name,
    kind: 'dependency' as const,
    runs: 0,
    run(context: CheckContext) {
      check.runs++;
      return answer(context);
    },
    ...extra,
  };
  return check;
}

describe('probe status', () => {
  it('passes with no checks at all', async () => {
    const h = health();
    await expect(h.probe('liveness')).resolves.toEqual({ status: 'pass', checks: {} });
    await expect(h.probe('readiness')).resolves.toEqual({ status: 'pass', checks: {} });
    await expect(h.probe('startup')).resolves.toEqual({ status: 'pass', checks: {} });
  });

  it('fails readiness when a critical check fails, warns when a non-critical one does', async () => {
    const h = health();
    h.addCheck(counted('db', () => true));
    const cache = counted('cache', () => false, { critical: false });
    h.addCheck(cache);
    const report = await h.probe('readiness');
    expect(report.status).toBe('warn');
    expect(report.checks.db?.[0]).toMatchObject({ status: 'pass' });
    expect(report.checks.cache?.[0]).toMatchObject({ status: 'fail', output: 'check reported failure' });

    h.addCheck(counted('search', () => Promise.reject(new Error('connection refused'))));
    const failing = await h.probe('readiness');
    expect(failing.status).toBe('fail');
    expect(failing.checks.search?.[0]).toMatchObject({ status: 'fail', output: 'connection refused' });
  });

  it('a warning measurement turns the probe to warn', async () => {
    const h = health();
    h.addCheck(
      counted('db', () => ({ status: 'warn', observedValue: 300, observedUnit: 'ms', output: 'slow' })),
    );
    expect((await h.probe('readiness')).status).toBe('warn');
  });

  it('keys results component:measurement and keeps one key whether the check passes or fails', async () => {
    const h = health();
    let up = true;
    h.addCheck(
      counted(
        'postgres',
        () => {
          if (!up) throw new Error('down');
          return { observedValue: 1.5, observedUnit: 'ms', componentId: 'db-1' };
        },
        { measurement: 'responseTime', cache: false },
      ),
    );
    h.addCheck(
      counted('memory', () => [
        { measurement: 'heapUsed', observedValue: 10, observedUnit: 'bytes' },
        { measurement: 'rss', observedValue: 20, observedUnit: 'bytes', status: 'warn' },
      ]),
    );
    const report = await h.probe('readiness');
    expect(Object.keys(report.checks)).toEqual(['postgres:responseTime', 'memory:heapUsed', 'memory:rss']);
    const entry = report.checks['postgres:responseTime']![0]!;
    expect(entry).toEqual({
      componentId: 'db-1',
      componentType: 'component',
      observedValue: 1.5,
      observedUnit: 'ms',
      status: 'pass',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    up = false;
    const down = await h.probe('readiness');
    expect(Object.keys(down.checks)).toContain('postgres:responseTime');
    expect(down.checks['postgres:responseTime']![0]).toMatchObject({ status: 'fail', output: 'down' });
  });

  it('never runs dependency checks for liveness, and refuses to put one there', async () => {
    const h = health();
    const db = counted('db', () => false);
    h.addCheck(db);
    h.addCheck(counted('loop', () => true, { kind: 'custom', probes: ['liveness'] }));
    const live = await h.probe('liveness');
    expect(live.status).toBe('pass');
    expect(Object.keys(live.checks)).toEqual(['loop']);
    expect(db.runs).toBe(0);
    expect(() => h.addCheck(counted('redis', () => true, { probes: ['liveness'] }))).toThrow(
      /dependency check cannot be part of liveness/,
    );
  });

  it('resource checks are non-critical unless told otherwise', async () => {
    const h = health();
    h.addCheck(counted('disk', () => false, { kind: 'resource' }));
    expect((await h.probe('readiness')).status).toBe('warn');
    h.addCheck(counted('disk2', () => false, { kind: 'resource', critical: true }));
    expect((await h.probe('readiness')).status).toBe('fail');
  });

  it('removes checks, and closes what they hold', async () => {
    const h = health();
    const close = jest.fn();
    const remove = h.addCheck({ ...counted('db', () => false), close });
    expect((await h.probe('readiness')).status).toBe('fail');
    remove();
    expect(close).toHaveBeenCalledTimes(1);
    expect((await h.probe('readiness')).status).toBe('pass');
    expect(h.removeCheck('db')).toBe(false);
  });
});

describe('timeouts', () => {
  it('fails a hanging check at its timeout, aborting its signal, and answers within timeout + margin', async () => {
    const h = health();
    let signal: AbortSignal | undefined;
    h.addCheck(
      counted(
        'blackhole',
        (ctx) => {
          signal = ctx.signal;
          return new Promise(() => {});
        },
        { timeoutMs: 150 },
      ),
    );
    const started = performance.now();
    const report = await h.probe('readiness');
    const took = performance.now() - started;
    expect(report.status).toBe('fail');
    expect(report.checks.blackhole?.[0]?.output).toBe('timed out after 150 ms');
    expect(signal?.aborted).toBe(true);
    expect(isPlatError(signal?.reason, 'CHECK_TIMEOUT')).toBe(true);
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(150 + 1000);
  });

  it('never starts a second run while a timed-out one has not returned', async () => {
    const h = health();
    let finish: (() => void) | undefined;
    let released = false;
    const check = counted(
      'stuck',
      () => (released ? true : new Promise<undefined>((resolve) => (finish = () => resolve(undefined)))),
      { timeoutMs: 50, cache: false },
    );
    h.addCheck(check);
    expect((await h.probe('readiness')).status).toBe('fail');
    for (let i = 0; i < 5; i++) {
      const report = await h.probe('readiness');
      expect(report.checks.stuck?.[0]?.output).toMatch(/previous run has not returned after \d+ ms/);
    }
    expect(check.runs).toBe(1);
    released = true;
    finish?.();
    await sleep(5);
    expect((await h.probe('readiness')).status).toBe('pass');
    expect(check.runs).toBe(2);
  });

  it('a check that throws synchronously fails without crashing', async () => {
    const h = health();
    h.addCheck(
      counted('sync', () => {
        throw new TypeError('bad');
      }),
    );
    expect((await h.probe('readiness')).checks.sync?.[0]).toMatchObject({ status: 'fail', output: 'bad' });
  });
});

describe('result cache', () => {
  it('a burst of 1,000 concurrent probes runs the check once per TTL', async () => {
    const h = health({ cache: { ttlMs: 1000 } });
    const check = counted('db', async () => {
      await sleep(20);
      return true;
    });
    h.addCheck(check);
    const burst = await Promise.all(Array.from({ length: 1000 }, () => h.probe('readiness')));
    expect(burst.every((report) => report.status === 'pass')).toBe(true);
    expect(check.runs).toBe(1);
    // Sequential probes inside the TTL are answered from the cache.
    for (let i = 0; i < 200; i++) await h.probe('readiness');
    expect(check.runs).toBe(1);
    await sleep(1050);
    await Promise.all(Array.from({ length: 1000 }, () => h.probe('readiness')));
    expect(check.runs).toBe(2);
  });

  it('caches failures for the shorter failure TTL', async () => {
    const h = health({ cache: { ttlMs: 10_000, failureTtlMs: 400, staleWhileRefresh: false } });
    let up = false;
    const check = counted('db', () => up);
    h.addCheck(check);
    expect((await h.probe('readiness')).status).toBe('fail');
    up = true;
    expect((await h.probe('readiness')).status).toBe('fail');
    expect(check.runs).toBe(1);
    await sleep(450);
    expect((await h.probe('readiness')).status).toBe('pass');
    expect(check.runs).toBe(2);
    up = false;
    // A pass is kept for the full TTL.
    expect((await h.probe('readiness')).status).toBe('pass');
    expect(check.runs).toBe(2);
  });

  it('answers a just-expired result while the refresh runs, never one older than TTL + timeout', async () => {
    const h = health({ cache: { ttlMs: 100 } });
    let release: (() => void) | undefined;
    let slow = false;
    let up = true;
    const check = counted(
      'db',
      () =>
        slow
          ? new Promise<boolean>((resolve) => {
              release = () => resolve(up);
            })
          : up,
      { timeoutMs: 300 },
    );
    h.addCheck(check);
    expect((await h.probe('readiness')).status).toBe('pass');
    await sleep(120);
    slow = true;
    up = false;
    // Expired: the refresh starts, and probes meanwhile get the last result at once.
    const started = performance.now();
    for (let i = 0; i < 10; i++) expect((await h.probe('readiness')).status).toBe('pass');
    expect(performance.now() - started).toBeLessThan(250);
    expect(check.runs).toBe(2);
    release?.();
    await sleep(5);
    expect((await h.probe('readiness')).status).toBe('fail');

    // Long unprobed: the old result is not served; the probe waits for a fresh one.
    const h2 = health({ cache: { ttlMs: 50 } });
    let value = true;
    h2.addCheck(counted('db', () => value, { timeoutMs: 50 }));
    expect((await h2.probe('readiness')).status).toBe('pass');
    value = false;
    await sleep(150);
    expect((await h2.probe('readiness')).status).toBe('fail');
  });

  it('with the cache off, concurrent probes still share one run', async () => {
    const h = health({ cache: false });
    const check = counted('db', async () => {
      await sleep(10);
      return true;
    });
    h.addCheck(check);
    await Promise.all(Array.from({ length: 50 }, () => h.probe('readiness')));
    expect(check.runs).toBe(1);
    await h.probe('readiness');
    expect(check.runs).toBe(2);
  });

  it('liveness and readiness share a check that takes part in both', async () => {
    const h = health();
    const check = counted('loop', () => true, { kind: 'resource', probes: ['liveness', 'readiness'] });
    h.addCheck(check);
    await h.probe('liveness');
    await h.probe('readiness');
    expect(check.runs).toBe(1);
  });

  it('returns the same report object while nothing changed', async () => {
    const h = health();
    h.addCheck(counted('db', () => true));
    const first = await h.probe('readiness');
    expect(await h.probe('readiness')).toBe(first);
  });
});

describe('hooks and logging', () => {
  it('reports runs to onCheck and logs state changes once', async () => {
    const logger = recordingLogger();
    const seen: Array<[string, string]> = [];
    const h = health({
      logger,
      cache: false,
      onCheck: (name, results) => {
        seen.push([name, results[0]!.status]);
        throw new Error('a broken metrics hook is ignored');
      },
    });
    let up = false;
    h.addCheck(counted('db', () => up));
    await h.probe('readiness');
    await h.probe('readiness');
    up = true;
    await h.probe('readiness');
    expect(seen).toEqual([
      ['db', 'fail'],
      ['db', 'fail'],
      ['db', 'pass'],
    ]);
    expect(logger.lines.map((line) => `${line.level} ${line.message}`)).toEqual([
      'warn check "db" is failing',
      'info check "db" recovered',
    ]);
  });
});

describe('validation', () => {
  const expectInvalid = (fn: () => unknown, code = 'INVALID_OPTIONS') => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(HealthError);
      expect(isPlatError(error, code)).toBe(true);
      return;
    }
    throw new Error('expected a HealthError');
  };

  it('rejects bad names, kinds, probes, timeouts and caches with typed errors', () => {
    const h = health();
    const ok = { name: 'x', kind: 'custom' as const, run: () => true };
    expectInvalid(() => h.addCheck({ ...ok, name: 'has space' }));
    expectInvalid(() => h.addCheck({ ...ok, name: 'a:b' }));
    expectInvalid(() => h.addCheck({ ...ok, kind: 'other' as never }));
    expectInvalid(() => h.addCheck({ ...ok, run: 'no' as never }));
    expectInvalid(() => h.addCheck({ ...ok, probes: [] }));
    expectInvalid(() => h.addCheck({ ...ok, probes: ['startup' as never] }));
    expectInvalid(() => h.addCheck({ ...ok, timeoutMs: 0 }));
    expectInvalid(() => h.addCheck({ ...ok, timeoutMs: Number.NaN }));
    expectInvalid(() => h.addCheck({ ...ok, cache: { ttlMs: -1 } }));
    expectInvalid(() => h.addCheck({ ...ok, measurement: 'a b' }));
    h.addCheck(ok);
    expectInvalid(() => h.addCheck(ok), 'DUPLICATE_NAME');
    expectInvalid(() => createHealth({ timeoutMs: -5 }));
    expectInvalid(() => createHealth({ shutdown: { delayMs: Number.POSITIVE_INFINITY } }));
    expectInvalid(() => createHealth({ cache: { ttlMs: Number.NaN } }));
    expectInvalid(() => createHealth({ cache: { ttlMs: 1, staleWhileRefresh: 'yes' as never } }));
  });

  it('rejects an unknown probe name', async () => {
    await expect(health().probe('ready' as never)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});

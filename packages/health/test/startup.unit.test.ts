import { isPlatError } from '@plat/core';
import { createHealth, type Health, type HealthOptions, type StartupTaskRegistry } from '../src';
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

describe('startup tasks', () => {
  it('startup and readiness fail while a task runs, and pass once it is done', async () => {
    const h = health();
    let finish!: () => void;
    const task = h.startupTask('migrations', new Promise<void>((resolve) => (finish = resolve)));
    expect(h.state).toBe('starting');
    const startup = await h.probe('startup');
    expect(startup.status).toBe('fail');
    expect(startup.output).toBe('starting: waiting for migrations');
    expect(startup.checks['migrations:duration']?.[0]).toMatchObject({
      status: 'warn',
      output: 'running',
      observedUnit: 'ms',
      componentType: 'startupTask',
    });
    const ready = await h.probe('readiness');
    expect(ready).toMatchObject({ status: 'fail', output: 'starting: waiting for migrations' });
    // Liveness is about the process only: starting is not a reason to restart it.
    expect((await h.probe('liveness')).status).toBe('pass');

    finish();
    await expect(task.settled).resolves.toBe('done');
    expect(task.state).toBe('done');
    expect(h.state).toBe('ready');
    const done = await h.probe('startup');
    expect(done.status).toBe('pass');
    expect(done.checks['migrations:duration']?.[0]).toMatchObject({ status: 'pass' });
    expect((await h.probe('readiness')).status).toBe('pass');
    await expect(h.started()).resolves.toBeUndefined();
  });

  it('starts function tasks at once and fails on a rejection, without crashing', async () => {
    const logger = recordingLogger();
    const h = health({ logger });
    const work = jest.fn(async () => {
      await sleep(5);
      throw new Error('relation "users" already exists');
    });
    const task = h.startupTask('migrations', work);
    expect(work).toHaveBeenCalledTimes(1);
    await expect(task.settled).resolves.toBe('failed');
    expect(h.state).toBe('failed');
    const startup = await h.probe('startup');
    expect(startup).toMatchObject({ status: 'fail', output: 'startup failed: migrations' });
    expect(startup.checks['migrations:duration']?.[0]).toMatchObject({
      status: 'fail',
      output: 'relation "users" already exists',
    });
    expect((await h.probe('readiness')).output).toBe('startup failed: migrations');
    const error = await h.started().catch((e: unknown) => e);
    expect(isPlatError(error, 'STARTUP_FAILED')).toBe(true);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringMatching(/migrations/) }),
    );
  });

  it('a synchronous function task completes (or fails) immediately', async () => {
    const h = health();
    expect(h.startupTask('sync', () => 42).state).toBe('done');
    expect(
      h.startupTask('throws', () => {
        throw new Error('nope');
      }).state,
    ).toBe('failed');
  });

  it('manual tasks complete or fail through their handle, once', async () => {
    const h = health();
    const warm = h.startupTask('cache-warm');
    const other = h.startupTask('other');
    expect((await h.probe('startup')).output).toBe('starting: waiting for cache-warm, other');
    warm.complete();
    warm.fail(new Error('ignored: already settled'));
    expect(warm.state).toBe('done');
    other.fail(new Error('gave up'));
    expect(other.state).toBe('failed');
    expect((await h.probe('startup')).output).toBe('startup failed: other');
  });

  it('fails a task that outlives its timeout', async () => {
    const h = health();
    const task = h.startupTask('slow', new Promise(() => {}), { timeoutMs: 30 });
    await expect(task.settled).resolves.toBe('failed');
    expect(isPlatError(task.error, 'STARTUP_FAILED')).toBe(true);
    expect((task.error as Error).message).toMatch(/did not complete within 30 ms/);
  });

  it('refuses duplicate names and bad work', () => {
    const h = health();
    h.startupTask('a');
    expect(() => h.startupTask('a')).toThrow(expect.objectContaining({ code: 'DUPLICATE_NAME' }));
    expect(() => h.startupTask('b', 5 as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => h.startupTask('bad name')).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('is usable through the structural StartupTaskRegistry type other packages accept', async () => {
    const h = health();
    // What a package such as @plat/cache-warm does with the registry it is given.
    const register = (registry: StartupTaskRegistry) => registry.startupTask('warm-up', () => sleep(5));
    const task = register(h);
    await task.settled;
    expect((await h.probe('startup')).status).toBe('pass');
  });
});

describe('heartbeats', () => {
  it('liveness fails when a loop stops beating, and recovers when it beats again', async () => {
    const h = health();
    const beat = h.heartbeat('consumer', { maxIntervalMs: 300 });
    expect((await h.probe('liveness')).status).toBe('pass');
    await sleep(400);
    const late = await h.probe('liveness');
    expect(late.status).toBe('fail');
    expect(late.checks['consumer:heartbeat']?.[0]?.output).toMatch(
      /no heartbeat for \d+ ms \(limit 300 ms\)/,
    );
    // Readiness does not look at heartbeats.
    expect((await h.probe('readiness')).status).toBe('pass');
    beat.beat();
    expect((await h.probe('liveness')).status).toBe('pass');
    beat.stop();
    await sleep(400);
    expect((await h.probe('liveness')).checks).toEqual({});
  });
});

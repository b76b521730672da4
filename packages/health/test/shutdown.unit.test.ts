/**
 * The shutdown sequence in-process (exit: false) against a real node http.Server. The same sequence
 * with real signals and process exit runs in child processes in shutdown.process.test.ts.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createHealth, type Health, type HealthOptions } from '../src';
import { recordingLogger, sleep } from './support/logger';

const made: Health[] = [];
const servers: Server[] = [];
function health(options: HealthOptions = {}): Health {
  const h = createHealth({
    eventLoop: false,
    logger: recordingLogger(),
    ...options,
    shutdown: { exit: false, signals: [], delayMs: 0, ...options.shutdown },
  });
  made.push(h);
  return h;
}
afterEach(async () => {
  for (const h of made.splice(0)) h.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function slowServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end('done'), ms).unref();
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('graceful shutdown (in-process)', () => {
  it('fails readiness at once, keeps liveness, drains requests, runs hooks in order', async () => {
    const h = health({ shutdown: { delayMs: 600 } });
    const { server, url } = await slowServer();
    h.attach(server);
    const order: string[] = [];
    h.onShutdown('tracer', async () => {
      await sleep(10);
      order.push('tracer');
    });
    h.onShutdown('postgres', () => {
      order.push('postgres');
    });
    const inflight = fetch(`${url}/?ms=900`);
    await sleep(30);
    const shutdown = h.shutdown('test');
    expect(h.state).toBe('draining');
    expect(await h.probe('readiness')).toMatchObject({ status: 'fail', output: 'shutting down', checks: {} });
    expect((await h.probe('liveness')).status).toBe('pass');
    // Still served during the delay, but told to close the connection.
    const during = await fetch(`${url}/?ms=0`);
    expect(await during.text()).toBe('done');
    expect(during.headers.get('connection')).toBe('close');
    const response = await inflight;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('done');
    const report = await shutdown;
    expect(report).toMatchObject({
      reason: 'test',
      clean: true,
      abandonedRequests: 0,
      abandonedHolds: [],
      failedHooks: [],
      exitCode: 0,
    });
    expect(order).toEqual(['tracer', 'postgres']);
    expect(h.state).toBe('stopped');
    expect(server.listening).toBe(false);
    expect(await h.shutdown('again')).toBe(report);
  });

  it('stops accepting connections after the delay', async () => {
    const h = health({ shutdown: { delayMs: 50 } });
    const { server, url } = await slowServer();
    h.attach(server);
    const inflight = fetch(`${url}/?ms=1500`);
    await sleep(20);
    const shutdown = h.shutdown('test');
    await sleep(150);
    expect(h.state).toBe('stopping');
    await expect(fetch(`${url}/?ms=0`)).rejects.toThrow();
    expect((await inflight).status).toBe(200);
    expect((await shutdown).clean).toBe(true);
  });

  it('closes connections of requests that outlive the drain deadline', async () => {
    const h = health({ shutdown: { drainTimeoutMs: 100 } });
    const { server, url } = await slowServer();
    h.attach(server);
    const stuck = fetch(`${url}/?ms=10000`).then(
      () => 'answered',
      () => 'aborted',
    );
    await sleep(30);
    const started = performance.now();
    const report = await h.shutdown('test');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(report).toMatchObject({ clean: false, abandonedRequests: 1, exitCode: 1 });
    expect(await stuck).toBe('aborted');
  });

  it('waits for holds, up to the drain deadline', async () => {
    const h = health({ shutdown: { drainTimeoutMs: 2000 } });
    const job = h.hold('job-1');
    const promised = h.hold('flush', sleep(50));
    expect(promised.name).toBe('flush');
    let released = false;
    setTimeout(() => {
      released = true;
      job.release();
    }, 80);
    const report = await h.shutdown('test');
    expect(released).toBe(true);
    expect(report.clean).toBe(true);

    const h2 = health({ shutdown: { drainTimeoutMs: 50 } });
    h2.hold('never');
    expect(await h2.shutdown('test')).toMatchObject({ clean: false, abandonedHolds: ['never'] });
    expect(() => h2.hold('late')).toThrow(expect.objectContaining({ code: 'SHUTTING_DOWN' }));
  });

  it('reports failing and slow hooks and still runs the rest', async () => {
    const logger = recordingLogger();
    const h = health({ logger, shutdown: { hookTimeoutMs: 50 } });
    const ran: string[] = [];
    h.onShutdown('throws', () => {
      throw new Error('pool already closed');
    });
    h.onShutdown('hangs', () => new Promise(() => {}));
    h.onShutdown('fine', () => {
      ran.push('fine');
    });
    const report = await h.shutdown('test');
    expect(report.failedHooks).toEqual([
      { name: 'throws', error: 'pool already closed' },
      { name: 'hangs', error: 'timed out after 50 ms' },
    ]);
    expect(ran).toEqual(['fine']);
    expect(report.exitCode).toBe(1);
    expect(logger.lines.filter((line) => line.level === 'error')).toHaveLength(2);
  });

  it('fits every step into the overall deadline', async () => {
    const h = health({ shutdown: { delayMs: 10_000, timeoutMs: 150, hookTimeoutMs: 10_000 } });
    h.onShutdown('late', () => new Promise(() => {}));
    const started = performance.now();
    const report = await h.shutdown('test');
    expect(performance.now() - started).toBeLessThan(1500);
    expect(report.failedHooks[0]?.name).toBe('late');
  });

  it('refuses new startup tasks and servers once shutting down, and duplicate hooks', async () => {
    const h = health();
    h.onShutdown('a', () => {});
    expect(() => h.onShutdown('a', () => {})).toThrow(expect.objectContaining({ code: 'DUPLICATE_NAME' }));
    const { server } = await slowServer();
    void h.shutdown('test');
    expect(() => h.startupTask('late')).toThrow(expect.objectContaining({ code: 'SHUTTING_DOWN' }));
    expect(() => h.attach(server)).toThrow(expect.objectContaining({ code: 'SHUTTING_DOWN' }));
  });

  it('listens for its signals once a server is attached, and stops listening when closed', async () => {
    // Jest gives tests a copy of \`process\` whose listeners the real signal never reaches, so signals
    // themselves are sent to real child processes in shutdown.process.test.ts.
    const h = health({ shutdown: { signals: ['SIGUSR2'] } });
    const before = process.listenerCount('SIGUSR2');
    const { server } = await slowServer();
    const requestListeners = server.listenerCount('request');
    h.attach(server);
    h.attach(server); // attaching twice tracks once
    expect(server.listenerCount('request')).toBe(requestListeners + 1);
    h.listenForSignals();
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    h.close();
    expect(process.listenerCount('SIGUSR2')).toBe(before);
    expect(server.listenerCount('request')).toBe(requestListeners);
  });
});

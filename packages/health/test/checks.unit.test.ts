import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '@plat/testkit';
import {
  type CheckResult,
  createHealth,
  diskSpaceCheck,
  eventLoopCheck,
  type Health,
  type HealthCheck,
  httpCheck,
  memoryCheck,
  postgresCheck,
  redisCheck,
} from '../src';
import { recordingLogger, sleep } from './support/logger';

const made: Health[] = [];
afterEach(() => {
  for (const h of made.splice(0)) h.close();
});

/** Runs one check through a registry (no cache) and returns its readiness entries. */
async function run(
  check: HealthCheck,
): Promise<{ status: string; checks: Record<string, readonly CheckResult[]> }> {
  const h = createHealth({ eventLoop: false, cache: false, logger: recordingLogger() });
  made.push(h);
  h.addCheck({ ...check, probes: ['readiness'], critical: true });
  const report = await h.probe('readiness');
  return { status: report.status, checks: { ...report.checks } };
}

describe('httpCheck', () => {
  let server: Server;
  let url: string;
  const hits: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/healthz') res.end('ok');
      else if (path === '/down') {
        res.statusCode = 500;
        res.end('down');
      } else if (path === '/moved') {
        res.statusCode = 302;
        res.setHeader('location', '/healthz');
        res.end();
      } else if (path === '/slow') setTimeout(() => res.end('late'), 300).unref();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('passes on 2xx and reports the response time under name:responseTime', async () => {
    const result = await run(
      httpCheck({ name: 'milvus', url: `${url}/healthz`, headers: { authorization: 'Bearer s3cret' } }),
    );
    expect(result.status).toBe('pass');
    expect(result.checks['milvus:responseTime']?.[0]).toMatchObject({
      componentId: `${url}/healthz`,
      observedUnit: 'ms',
      status: 'pass',
    });
    expect(hits).toContain('GET /healthz Bearer s3cret');
  });

  it('fails on an unexpected status, and accepts the statuses it is told to', async () => {
    const down = await run(httpCheck({ name: 'svc', url: `${url}/down` }));
    expect(down.checks['svc:responseTime']?.[0]).toMatchObject({
      status: 'fail',
      output: `GET ${url}/down answered 500`,
    });
    expect(
      (await run(httpCheck({ name: 'svc', url: `${url}/down`, expectedStatus: [500, 503] }))).status,
    ).toBe('pass');
    // Redirects are judged as they are, not followed.
    expect((await run(httpCheck({ name: 'svc', url: `${url}/moved` }))).status).toBe('fail');
    expect(
      (await run(httpCheck({ name: 'svc', url: `${url}/moved`, expectedStatus: (s) => s < 400 }))).status,
    ).toBe('pass');
  });

  it('never reports credentials or the query string', async () => {
    const port = await freePort();
    const result = await run(
      httpCheck({ name: 'secret', url: `http://user:hunter2@127.0.0.1:${port}/healthz?token=abc` }),
    );
    const entry = result.checks['secret:responseTime']?.[0];
    expect(entry?.status).toBe('fail');
    expect(entry?.output).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify(result)).not.toMatch(/hunter2|token=abc|user:/);
    // Against a live server the credentials are sent as Basic auth, and still never reported.
    const live = new URL(`${url}/healthz?token=abc`);
    live.username = 'user';
    live.password = 'hunter2';
    const ok = await run(httpCheck({ name: 'secret', url: live }));
    expect(ok.status).toBe('pass');
    expect(hits).toContain(`GET /healthz?token=abc Basic ${Buffer.from('user:hunter2').toString('base64')}`);
    expect(JSON.stringify(ok)).not.toMatch(/hunter2|token=abc|user:/);
  });

  it('warns above a latency threshold and times out a slow dependency', async () => {
    const warned = await run(httpCheck({ name: 'svc', url: `${url}/slow`, latencyMs: { warn: 100 } }));
    expect(warned.checks['svc:responseTime']?.[0]).toMatchObject({
      status: 'warn',
      output: expect.stringMatching(/took/),
    });
    const started = performance.now();
    const timedOut = await run(httpCheck({ name: 'svc', url: `${url}/slow`, timeoutMs: 100 }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(timedOut.checks['svc:responseTime']?.[0]).toMatchObject({
      status: 'fail',
      output: 'timed out after 100 ms',
    });
  });

  it('rejects URLs it cannot call', () => {
    expect(() => httpCheck({ url: 'not a url' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => httpCheck({ url: 'file:///etc/passwd' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});

describe('a blackholed TCP server (accepts, never answers)', () => {
  let blackhole: TcpServer;
  let port: number;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    blackhole = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    blackhole.listen(0, '127.0.0.1');
    await once(blackhole, 'listening');
    port = (blackhole.address() as AddressInfo).port;
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    blackhole.close();
  });

  it('fails an HTTP check within its timeout, and liveness still passes', async () => {
    const h = createHealth({ logger: recordingLogger() });
    made.push(h);
    h.addCheck(httpCheck({ name: 'vector-db', url: `http://127.0.0.1:${port}/healthz`, timeoutMs: 200 }));
    const started = performance.now();
    const ready = await h.probe('readiness');
    const took = performance.now() - started;
    expect(ready.status).toBe('fail');
    expect(ready.checks['vector-db:responseTime']?.[0]?.output).toBe('timed out after 200 ms');
    expect(took).toBeLessThan(200 + 800);
    expect((await h.probe('liveness')).status).toBe('pass');
  });
});

describe('diskSpaceCheck', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'plat-health-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports free bytes and percent of the file system holding the path', async () => {
    const result = await run(diskSpaceCheck({ path: dir, freePercent: { fail: 0 } }));
    const free = result.checks['disk:free']?.[0];
    const percent = result.checks['disk:freePercent']?.[0];
    expect(free).toMatchObject({ status: 'pass', observedUnit: 'bytes', componentId: dir });
    expect(free?.observedValue).toBeGreaterThan(0);
    expect(percent).toMatchObject({ status: 'pass', observedUnit: 'percent' });
    expect(percent?.observedValue).toBeGreaterThan(0);
    expect(percent?.observedValue).toBeLessThanOrEqual(100);
  });

  it('warns and fails below its thresholds', async () => {
    const warned = await run(diskSpaceCheck({ path: dir, freePercent: { warn: 101 } }));
    expect(warned.checks['disk:freePercent']?.[0]).toMatchObject({
      status: 'warn',
      output: expect.stringMatching(/% free on/),
    });
    const failed = await run(diskSpaceCheck({ path: dir, freeBytes: { fail: Number.MAX_SAFE_INTEGER } }));
    expect(failed.status).toBe('fail');
    expect(failed.checks['disk:free']?.[0]?.output).toMatch(/iB free on/);
  });

  it('fails for a path that does not exist', async () => {
    const result = await run(diskSpaceCheck({ path: join(dir, 'missing') }));
    expect(result.checks['disk:free']?.[0]).toMatchObject({
      status: 'fail',
      output: expect.stringMatching(/ENOENT/),
    });
  });

  it('rejects thresholds that are not numbers', () => {
    expect(() => diskSpaceCheck({ freeBytes: { fail: Number.NaN } })).toThrow(/freeBytes.fail/);
  });
});

describe('memoryCheck', () => {
  it('reports heap used and rss in bytes', async () => {
    const result = await run(memoryCheck());
    expect(result.status).toBe('pass');
    const heap = result.checks['memory:heapUsed']?.[0];
    const rss = result.checks['memory:rss']?.[0];
    expect(heap).toMatchObject({ status: 'pass', observedUnit: 'bytes' });
    expect(rss).toMatchObject({ status: 'pass', observedUnit: 'bytes' });
    expect(rss?.observedValue as number).toBeGreaterThan(heap?.observedValue as number);
  });

  it('warns and fails above its thresholds', async () => {
    const { rss } = process.memoryUsage();
    const failed = await run(memoryCheck({ rssBytes: { warn: 1, fail: Math.floor(rss / 2) } }));
    expect(failed.checks['memory:rss']?.[0]).toMatchObject({
      status: 'fail',
      output: expect.stringMatching(/^rss /),
    });
    const warned = await run(memoryCheck({ heapUsedPercent: { warn: 0 } }));
    expect(warned.checks['memory:heapUsed']?.[0]).toMatchObject({
      status: 'warn',
      output: expect.stringMatching(/heap used/),
    });
    const percent = await run(memoryCheck({ rssPercent: { fail: 0 } }));
    expect(percent.checks['memory:rss']?.[0]?.status).toBe('fail');
  });
});

describe('eventLoopCheck', () => {
  it('sees a blocked event loop and warns, without failing liveness by default', async () => {
    const check = eventLoopCheck({ resolutionMs: 10, delayMs: { warn: 50 }, cache: false });
    const h = createHealth({ eventLoop: false, logger: recordingLogger(), cache: false });
    made.push(h);
    h.addCheck(check);
    await sleep(50);
    const calm = await h.probe('liveness');
    expect(calm.checks['eventLoop:delay']?.[0]).toMatchObject({ observedUnit: 'ms' });
    expect(calm.checks['eventLoop:utilization']?.[0]).toMatchObject({ observedUnit: 'ratio' });
    const until = Date.now() + 200;
    while (Date.now() < until) {
      // Block the loop, as a runaway synchronous computation would.
    }
    await sleep(30);
    const blocked = await h.probe('liveness');
    const delay = blocked.checks['eventLoop:delay']?.[0];
    expect(delay?.observedValue as number).toBeGreaterThan(50);
    expect(delay?.status).toBe('warn');
    // Non-critical by default: the probe warns but stays 200.
    expect(blocked.status).toBe('warn');
    expect((await h.probe('readiness')).status).toBe('warn');
  });

  it('is registered by createHealth unless turned off', async () => {
    const h = createHealth({ logger: recordingLogger() });
    made.push(h);
    expect(Object.keys((await h.probe('liveness')).checks)).toEqual([
      'eventLoop:delay',
      'eventLoop:utilization',
    ]);
    const off = createHealth({ eventLoop: false, logger: recordingLogger() });
    made.push(off);
    expect((await off.probe('liveness')).checks).toEqual({});
  });

  it('rejects a bad resolution or window', () => {
    expect(() => eventLoopCheck({ resolutionMs: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => eventLoopCheck({ resolutionMs: 20, windowMs: 5 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});

describe('driver checks without a driver', () => {
  it('postgresCheck and redisCheck reject things they cannot use', () => {
    expect(() => postgresCheck({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => redisCheck({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('a disconnected redis client fails at once instead of queueing', async () => {
    const started = performance.now();
    const result = await run(
      redisCheck({ isReady: false, ping: () => new Promise(() => {}) }, { timeoutMs: 5000 }),
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result.checks['redis:responseTime']?.[0]).toMatchObject({
      status: 'fail',
      output: 'client is not connected',
    });
  });
});

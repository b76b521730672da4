/**
 * Graceful shutdown for real: each framework's service runs in a child process, receives SIGTERM
 * while requests are in flight, and must fail readiness first, finish those requests, stop
 * accepting, run its close hooks in order and exit with code 0 within the deadline.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { sleep } from './support/logger';

const packageDir = join(__dirname, '..');
const fixture = join(__dirname, 'fixtures', 'shutdown-app.ts');
/** The fixture's shutdown.timeoutMs and delayMs. */
const DEADLINE_MS = 8000;
const DELAY_MS = 1500;

interface Service {
  child: ChildProcess;
  base: string;
  lines: Array<Record<string, unknown>>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

async function startService(framework: string): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, framework], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      lines.push(parsed);
      if (typeof parsed.listening === 'number') {
        clearTimeout(timer);
        resolve(parsed.listening);
      }
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}: ${stderr}`)));
  });
  return { child, base: `http://127.0.0.1:${port}`, lines, exited };
}

/** One GET on a fresh connection (no keep-alive pool), so "refused" means the server stopped accepting. */
function request(url: string): Promise<{ status: number; body: string; at: number }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, at: performance.now() }));
    }).on('error', reject);
  });
}

describe.each(['express', 'fastify', 'koa'])('graceful shutdown on %s (child process)', (framework) => {
  let service: Service | undefined;
  afterEach(() => {
    if (service?.child.exitCode === null) service.child.kill('SIGKILL');
  });

  it('SIGTERM with requests in flight: readiness fails first, requests finish, hooks run, exit 0', async () => {
    service = await startService(framework);
    const { base, child, lines, exited } = service;
    expect((await request(`${base}/health/ready`)).status).toBe(200);

    const inflight = [1, 2, 3].map(() => request(`${base}/slow?ms=2500`));
    await sleep(200);
    const signalled = performance.now();
    child.kill('SIGTERM');

    // Readiness fails at once, while the service still accepts and serves (the delay).
    let ready = await request(`${base}/health/ready`);
    for (let i = 0; i < 40 && ready.status === 200; i++) {
      await sleep(20);
      ready = await request(`${base}/health/ready`);
    }
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'fail', output: 'shutting down' });
    expect(ready.at - signalled).toBeLessThan(DELAY_MS);
    expect((await request(`${base}/health/live`)).status).toBe(200);

    // After the delay it stops accepting, while the in-flight requests are still running.
    await sleep(signalled + DELAY_MS + 400 - performance.now());
    await expect(request(`${base}/health/live`)).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);

    const finished = await Promise.all(inflight);
    for (const result of finished) {
      expect(result).toMatchObject({ status: 200, body: 'slow done' });
      expect(result.at).toBeGreaterThan(ready.at);
    }
    const [code, signal] = await exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(DEADLINE_MS);

    const events = lines.map((line) => (line.hook ? `hook ${line.hook}` : line.message)).filter(Boolean);
    expect(events).toEqual([
      'shutdown started: readiness is failing',
      'stopped accepting connections; draining',
      'hook first',
      'hook second',
      'shutdown complete',
    ]);
    expect(lines.find((line) => line.message === 'shutdown started: readiness is failing')).toMatchObject({
      reason: 'SIGTERM',
      inflightRequests: 3,
    });
    expect(lines.at(-1)).toMatchObject({ clean: true, abandonedRequests: 0, exitCode: 0 });
  }, 30_000);
});

describe('a second signal during shutdown', () => {
  it('exits at once with code 1', async () => {
    const service = await startService('express');
    try {
      service.child.kill('SIGINT');
      await sleep(100);
      service.child.kill('SIGINT');
      const [code] = await service.exited;
      expect(code).toBe(1);
      expect(service.lines.some((line) => line.message === 'SIGINT received again during shutdown')).toBe(
        true,
      );
      // It did not wait for the graceful path: no hooks ran, no completion was reported.
      expect(
        service.lines.some((line) => line.hook !== undefined || line.message === 'shutdown complete'),
      ).toBe(false);
    } finally {
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
    }
  }, 30_000);
});

/**
 * Inbound HTTP tracing cost on Fastify: bare, the usual hand-made OpenTelemetry setup
 * (instrumentation-http + @fastify/otel, always on, batch processor), and @plat/tracing at 100% and
 * 10% sampling, plus the @plat/core bridge alone (what any @plat adapter costs before tracing does
 * anything). Each server runs in its own process (server.ts); autocannon loads it from this
 * process; spans go over OTLP/HTTP (protobuf) to a sink in this process that accepts and drops them.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { type BenchRow, printTable } from '../harness';
import type { SystemName } from './server';

const quick = process.env.PLAT_BENCH_QUICK === '1';
const DURATION_S = quick ? 1 : 10;
const WARMUP_S = quick ? 1 : 3;
const CONNECTIONS = 32;
const here = import.meta.dirname;

const SYSTEMS: ReadonlyArray<{ name: SystemName; label: string }> = [
  { name: 'bare', label: 'bare Fastify (no tracing)' },
  { name: 'core-bridge', label: '@plat/core Fastify bridge, no-op middleware (no tracing)' },
  { name: 'handmade', label: 'hand-made OTel: instrumentation-http + @fastify/otel, 100%' },
  { name: 'plat-100', label: '@plat/tracing, 100% sampling' },
  { name: 'plat-10', label: '@plat/tracing, 10% sampling' },
];

const ROUTES = [
  { title: 'Fastify hello world (GET /hello)', path: '/hello' },
  { title: 'Fastify route with one SQLite query via kysely (GET /workflows/:id)', path: '/workflows/42' },
];

/** An OTLP/HTTP endpoint that reads and drops every export, counting bytes to show export happened. */
async function startSink(): Promise<{ server: Server; url: string; bytes: () => number }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' });
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/v1/traces`, bytes: () => bytes };
}

function waitFor<T extends { type: string }>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`bench server exited with ${code} before "${type}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function load(url: string, durationS: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: durationS }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

async function measure(system: SystemName, path: string, otlpUrl: string, sinkBytes: () => number) {
  const child = fork(join(here, 'server.ts'), [system, otlpUrl], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, TSX_TSCONFIG_PATH: join(here, '..', 'tsconfig.json') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const { port } = await waitFor<{ type: string; port: number }>(child, 'ready');
    const url = `http://127.0.0.1:${port}${path}`;
    await load(url, WARMUP_S);
    child.send({ type: 'start' });
    await waitFor(child, 'started');
    const bytesBefore = sinkBytes();
    const result = await load(url, DURATION_S);
    child.send({ type: 'stop' });
    const { cpuMicros } = await waitFor<{ type: string; cpuMicros: number }>(child, 'stopped');
    const requests = result.requests.total;
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${system} ${path}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    }
    return {
      reqPerSec: requests / DURATION_S,
      p99Ms: result.latency.p99,
      cpuPerRequest: cpuMicros / requests,
      otlpKbPer1k: ((sinkBytes() - bytesBefore) / 1024 / requests) * 1000,
    };
  } finally {
    child.disconnect();
    if (child.exitCode === null) await once(child, 'exit');
  }
}

export default async function run(): Promise<void> {
  const sink = await startSink();
  try {
    for (const route of ROUTES) {
      const rows: BenchRow[] = [];
      let handmade = Number.NaN;
      for (const system of SYSTEMS) {
        const figures = await measure(system.name, route.path, sink.url, sink.bytes);
        if (system.name === 'handmade') handmade = figures.reqPerSec;
        rows.push({
          system: system.label,
          metrics: {
            'req/s': figures.reqPerSec,
            'p99 ms': figures.p99Ms,
            'server CPU µs/req': figures.cpuPerRequest,
            'OTLP KiB/1k req': figures.otlpKbPer1k,
            'vs hand-made': Number.isNaN(handmade) ? '' : `${(figures.reqPerSec / handmade).toFixed(2)}x`,
          },
        });
      }
      printTable(route.title, rows, {
        ratioOf: 'req/s',
        note:
          `autocannon, ${CONNECTIONS} connections, ${DURATION_S}s after ${WARMUP_S}s warm-up, server and load ` +
          'generator in separate processes on one machine. Server CPU is process.cpuUsage() over the ' +
          'measured window (export work included) divided by requests. Spans go over OTLP/HTTP protobuf ' +
          'with the batch processor to a local sink that drops them.',
      });
    }
  } finally {
    sink.server.closeAllConnections();
    sink.server.close();
  }
}

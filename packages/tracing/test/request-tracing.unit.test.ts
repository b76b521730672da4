import { request } from 'node:http';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { frameworks, type RunningApp } from '@plat/testkit';
import { createRequestTracing, type RequestTracingOptions, setupTracing, type TracingHandle } from '../src';
import { traceRequests } from '../src/express';
import { httpGet, waitForSpan } from './helpers/http';
import { isPlatErrorLike } from './helpers/imports';

const express = frameworks.find((fw) => fw.name === 'express')!;

let handle: TracingHandle;
beforeAll(() => {
  handle = setupTracing({ exporter: 'memory', instrumentations: false });
});
afterAll(() => handle.shutdown());
beforeEach(() => handle.memoryExporter!.reset());
const spans = () => handle.memoryExporter!.getFinishedSpans();

async function start(options: RequestTracingOptions): Promise<RunningApp> {
  return express.start({
    express(app) {
      app.use(traceRequests(options));
      app.all('/things/:id', (_req, res) => {
        res.setHeader('x-cache', 'miss');
        res.json({ ok: true });
      });
    },
  });
}

function send(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('request tracing options', () => {
  it.each([
    [{ requestHeaders: ['Authorization'] }, /Authorization/],
    [{ responseHeaders: ['set-cookie'] }, /set-cookie/],
    [{ requestHeaders: ['x-api-key'] }, /x-api-key/],
    [{ responseHeader: 'x-request-id' as never }, /responseHeader/],
  ])('refuses %j', (options, message) => {
    let caught: unknown;
    try {
      createRequestTracing(options);
    } catch (error) {
      caught = error;
    }
    expect(isPlatErrorLike(caught, 'INVALID_OPTIONS')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });

  it('returns x-trace-id, records the query and chosen headers, and runs the hooks', async () => {
    const app = await start({
      responseHeader: 'x-trace-id',
      captureQuery: true,
      responseHeaders: ['x-cache'],
      onRequest: (span, exchange) => span.setAttribute('app.tenant', exchange.header('x-tenant') ?? 'none'),
      onResponse: (span, _exchange, response) => {
        span.setAttribute('app.bytes.known', response.bytes !== undefined);
        throw new Error('a broken hook must not matter');
      },
    });
    try {
      const res = await httpGet(`${app.url}/things/9?page=2&sort=asc`, { 'x-tenant': 'acme' });
      expect(res.status).toBe(200);
      const server = await waitForSpan(spans, (s) => s.kind === SpanKind.SERVER);
      expect(res.headers['x-trace-id']).toBe(server.spanContext().traceId);
      expect(server.attributes).toMatchObject({
        'url.query': 'page=2&sort=asc',
        'http.response.header.x-cache': ['miss'],
        'app.tenant': 'acme',
        'app.bytes.known': true,
      });
      expect(server.ended).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('names spans of unknown methods HTTP and reports the method as _OTHER', async () => {
    const app = await start({});
    try {
      expect(await send(`${app.url}/things/1`, 'PURGE')).toBe(200);
      const server = await waitForSpan(spans, (s) => s.kind === SpanKind.SERVER);
      expect(server.name).toBe('HTTP /things/:id');
      expect(server.attributes['http.request.method']).toBe('_OTHER');
      expect(server.attributes['http.request.method_original']).toBe('PURGE');
    } finally {
      await app.close();
    }
  });

  it('can use a provider of its own instead of the global one', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const app = await start({ tracerProvider: provider });
    try {
      await httpGet(`${app.url}/things/2`);
      const server = await waitForSpan(
        () => exporter.getFinishedSpans(),
        (s) => s.kind === SpanKind.SERVER,
      );
      expect(server.name).toBe('GET /things/:id');
      expect(spans()).toEqual([]);
    } finally {
      await app.close();
      await provider.shutdown();
    }
  });
});

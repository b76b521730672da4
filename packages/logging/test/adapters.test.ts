import { setTimeout as sleep } from 'node:timers/promises';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { type PlatMiddleware, setPrincipal } from '@plat/core';
import { expressMiddleware } from '@plat/core/express';
import { fastifyPlugin } from '@plat/core/fastify';
import { koaMiddleware } from '@plat/core/koa';
import { describeErrorHandlers, frameworks, type RunningApp } from '@plat/testkit';
import { createLogger, createMemoryTransport, LoggingError, type RequestLoggingOptions } from '../src';
import { errorHandler as expressHandler, requestLogging as expressLogging } from '../src/express';
import { errorHandler as fastifyHandler, requestLogging as fastifyLogging } from '../src/fastify';
import { errorHandler as koaHandler, requestLogging as koaLogging } from '../src/koa';

describeErrorHandlers(
  '@plat/logging',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new LoggingError('INVALID_OPTIONS', 'bad options'),
  500,
);

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

/** What @plat/tracing does: a server span around the rest of the request. */
const tracing: PlatMiddleware = (exchange, next) => {
  const span = trace.getTracer('adapters-test').startSpan(`${exchange.method} request`);
  exchange.onFinish(() => span.end());
  context.with(trace.setSpan(context.active(), span), next);
  return undefined;
};

/** What @plat/apikeys does: records the principal, after the request logger was mounted. */
const authenticate: PlatMiddleware = (exchange) => {
  const user = exchange.header('x-user');
  if (user !== undefined) setPrincipal({ id: user, tenantId: 'acme' });
  // What db-perf does: adds its summary to the request when the response is done.
  exchange.onFinish(() => {
    exchange.context.annotations.db = { queries: 1 };
  });
  return undefined;
};

const memory = createMemoryTransport();
const logger = createLogger({ transports: [memory], logUncaught: false, fields: { service: 'test' } });
const options: RequestLoggingOptions = {
  logger,
  skip: (exchange, response) => exchange.path === '/healthz' && response.status === 200,
  fields: (exchange) =>
    exchange.header('x-tag') === undefined ? undefined : { tag: exchange.header('x-tag') },
};

/** The handler's work: a log line after a timer, inside the request. */
async function loadItem(id: string): Promise<{ id: string }> {
  await sleep(Number(id) % 4);
  logger.info('loading item', { id });
  return { id };
}

type Line = Record<string, unknown> & { http?: Record<string, unknown> };
const requestLines = () => memory.records().filter((r): r is Line => r.http !== undefined);
const sameLineAcross = new Map<string, Line>();

async function waitForLines(count: number): Promise<Line[]> {
  for (let i = 0; i < 400 && requestLines().length < count; i++) await sleep(5);
  return requestLines();
}

describe.each(frameworks)('request logging on $name', (fw) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await fw.start({
      express(server) {
        server.use(expressMiddleware(tracing));
        server.use(expressLogging(options));
        server.use(expressMiddleware(authenticate));
        server.get('/items/:id', async (req, res) => {
          res.json(await loadItem(req.params.id));
        });
        server.get('/fail', (_req, res) => {
          res.status(500).json({ error: 'broken' });
        });
        server.get('/healthz', (_req, res) => {
          res.json({ ok: true });
        });
        server.get('/slow', async (_req, res) => {
          await sleep(300);
          if (!res.writableEnded) res.json({ late: true });
        });
      },
      async fastify(server) {
        await server.register(fastifyPlugin(tracing));
        await server.register(fastifyLogging(options));
        await server.register(fastifyPlugin(authenticate));
        server.get<{ Params: { id: string } }>('/items/:id', async (request) => loadItem(request.params.id));
        server.get('/fail', async (_request, reply) => reply.code(500).send({ error: 'broken' }));
        server.get('/healthz', async () => ({ ok: true }));
        server.get('/slow', async () => {
          await sleep(300);
          return { late: true };
        });
      },
      koa(server, router) {
        server.use(koaMiddleware(tracing));
        server.use(koaLogging(options));
        server.use(koaMiddleware(authenticate));
        router.get('/items/:id', async (ctx) => {
          ctx.body = await loadItem(ctx.params.id as string);
        });
        router.get('/fail', (ctx) => {
          ctx.status = 500;
          ctx.body = { error: 'broken' };
        });
        router.get('/healthz', (ctx) => {
          ctx.body = { ok: true };
        });
        router.get('/slow', async (ctx) => {
          await sleep(300);
          ctx.body = { late: true };
        });
      },
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    memory.clear();
    exporter.reset();
  });

  const get = (path: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${app.url}${path}`, {
      headers: { 'user-agent': 'plat-test/1.0', ...headers },
      ...(signal === undefined ? {} : { signal }),
    });

  it('logs one line per request with route, status, duration, bytes, user agent, address, ids', async () => {
    const res = await get('/items/7', { 'x-request-id': `rid-${fw.name}`, 'x-user': 'alice', 'x-tag': 't1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(`rid-${fw.name}`);
    expect(await res.json()).toEqual({ id: '7' });
    const [line] = await waitForLines(1);
    const span = exporter.getFinishedSpans()[0]?.spanContext();
    expect(line).toMatchObject({
      level: 'info',
      message: expect.stringMatching(/^GET \/items\/:id 200 \d+\.\d ms$/),
      request_id: `rid-${fw.name}`,
      principal_id: 'alice',
      tenant_id: 'acme',
      trace_id: span?.traceId,
      span_id: span?.spanId,
      trace_flags: '01',
      service: 'test',
      tag: 't1',
      db: { queries: 1 },
      http: {
        method: 'GET',
        route: '/items/:id',
        path: '/items/7',
        status: 200,
        duration_ms: expect.any(Number),
        bytes: Number(res.headers.get('content-length')),
        user_agent: 'plat-test/1.0',
        remote_address: '127.0.0.1',
        protocol: 'HTTP/1.1',
      },
    });
    // The handler's own line carries the same request and trace.
    const handlerLine = memory.records().find((r) => r.message === 'loading item');
    expect(handlerLine).toMatchObject({
      request_id: `rid-${fw.name}`,
      trace_id: span?.traceId,
      principal_id: 'alice',
    });
    const { timestamp: _t, message: _m, trace_id: _tr, span_id: _s, request_id: _r, ...rest } = line as Line;
    sameLineAcross.set(fw.name, {
      ...rest,
      http: { ...(rest.http as Record<string, unknown>), duration_ms: 'any' },
    });
  });

  it('generates a request id when none is sent, and echoes it', async () => {
    const res = await get('/items/1', { 'x-request-id': 'not a safe id!' });
    const echoed = res.headers.get('x-request-id');
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
    const [line] = await waitForLines(1);
    expect(line?.request_id).toBe(echoed);
  });

  it('chooses the level by status class and logs unmatched paths by path', async () => {
    await get('/fail');
    await get('/nope');
    const lines = await waitForLines(2);
    const byPath = Object.fromEntries(lines.map((l) => [l.http?.path, l]));
    expect(byPath['/fail']).toMatchObject({ level: 'error', http: { status: 500, route: '/fail' } });
    expect(byPath['/nope']).toMatchObject({ level: 'warn', http: { status: 404 } });
    expect(byPath['/nope']?.http?.route).toBeUndefined();
    expect(byPath['/nope']?.message).toMatch(/^GET \/nope 404 /);
  });

  it('leaves out requests the skip predicate names', async () => {
    expect((await get('/healthz')).status).toBe(200);
    await get('/items/2');
    const lines = await waitForLines(1);
    await sleep(20);
    expect(requestLines().map((l) => l.http?.path)).toEqual(['/items/2']);
    expect(lines).toHaveLength(1);
  });

  it('logs a request the client abandoned as aborted, at warn', async () => {
    const controller = new AbortController();
    const pending = get('/slow', { 'x-request-id': `gone-${fw.name}` }, controller.signal);
    await sleep(50);
    controller.abort();
    await expect(pending).rejects.toThrow();
    const [line] = await waitForLines(1);
    expect(line).toMatchObject({
      level: 'warn',
      request_id: `gone-${fw.name}`,
      message: expect.stringMatching(/^GET \/slow aborted \(\d+\) /),
      http: { route: '/slow', aborted: true },
    });
  });

  it('keeps concurrent requests apart', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => `c${fw.name}-${i}`);
    await Promise.all(ids.map((id, i) => get(`/items/${i}`, { 'x-request-id': id, 'x-user': `u${i}` })));
    const lines = await waitForLines(ids.length);
    expect(lines).toHaveLength(ids.length);
    for (const line of lines) {
      const index = Number(line.http?.path?.toString().split('/').pop());
      expect(line).toMatchObject({ request_id: ids[index], principal_id: `u${index}` });
    }
    const handlerLines = memory.records().filter((r) => r.message === 'loading item');
    expect(handlerLines).toHaveLength(ids.length);
    for (const line of handlerLines) expect(line.request_id).toBe(ids[Number(line.id)]);
  });
});

describe('the three adapters', () => {
  it('produce the same request line', () => {
    expect([...sameLineAcross.keys()]).toEqual(['express', 'fastify', 'koa']);
    const [express, fastify, koa] = [...sameLineAcross.values()];
    expect(fastify).toEqual(express);
    expect(koa).toEqual(express);
  });

  it('reject options without a logger or with a bad header name', () => {
    expect(() => expressLogging({} as RequestLoggingOptions)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => koaLogging({ logger, requestIdHeader: '' })).toThrow(/requestIdHeader/);
  });
});

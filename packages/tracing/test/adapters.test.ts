import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { currentContext } from '@plat/core';
import { describeErrorHandlers, frameworks, type RunningApp } from '@plat/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import {
  currentTraceId,
  type RequestTracingOptions,
  setupTracing,
  TracingError,
  type TracingHandle,
} from '../src';
import { errorHandler as expressHandler, traceRequests as expressTracing, traceErrors } from '../src/express';
import { errorHandler as fastifyHandler, traceRequests as fastifyTracing } from '../src/fastify';
import { errorHandler as koaHandler, traceRequests as koaTracing } from '../src/koa';
import { traceDialect } from '../src/kysely';
import { httpGet, idOf, parentOf, startUpstream, waitForSpan } from './helpers/http';

describeErrorHandlers(
  '@plat/tracing',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new TracingError('INVALID_OPTIONS', 'bad options'),
  500,
);

interface Db {
  workflows: { id: number; name: string };
}

let handle: TracingHandle;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let db: Kysely<Db>;
let dir: string;
beforeAll(async () => {
  handle = setupTracing({
    serviceName: 'adapters-test',
    exporter: 'memory',
    instrumentations: { http: false, pg: false, redis: false, fetch: true },
  });
  upstream = await startUpstream();
  dir = mkdtempSync(join(tmpdir(), 'plat-tracing-'));
  db = new Kysely<Db>({
    dialect: traceDialect(new SqliteDialect({ database: new Database(join(dir, 'db.sqlite')) })),
  });
  await db.schema
    .createTable('workflows')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .execute();
  await db.insertInto('workflows').values({ id: 7, name: 'nightly build' }).execute();
});
afterAll(async () => {
  await db.destroy();
  await upstream.close();
  await handle.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const spans = () => handle.memoryExporter!.getFinishedSpans();
const options: RequestTracingOptions = {
  responseHeader: 'traceresponse',
  skip: (exchange) => exchange.path === '/health',
  requestHeaders: ['x-tenant'],
};

/** The handler every framework runs: one query, one outgoing call, and what the request context says. */
async function loadWorkflow(id: string) {
  const row = await db.selectFrom('workflows').selectAll().where('id', '=', Number(id)).executeTakeFirst();
  const downstream = (await (await fetch(`${upstream.url}/nodes`)).json()) as { nodes: number };
  return {
    ...row,
    nodes: downstream.nodes,
    requestId: currentContext()?.requestId,
    traceId: currentTraceId(),
  };
}

describe.each(frameworks)('@plat/tracing adapters on $name', (fw) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await fw.start({
      express(server) {
        server.use(expressTracing(options));
        server.get('/workflows/:id', async (req, res) => {
          res.json(await loadWorkflow(req.params.id));
        });
        server.get('/boom', async () => {
          throw new Error('kaput');
        });
        server.get('/missing/:id', (_req, res) => {
          res.status(404).json({ error: 'no such thing' });
        });
        server.get('/health', (_req, res) => {
          res.json({ ok: true });
        });
        server.use(traceErrors());
      },
      async fastify(server) {
        await server.register(fastifyTracing(options));
        server.get<{ Params: { id: string } }>('/workflows/:id', (request) =>
          loadWorkflow(request.params.id),
        );
        server.get('/boom', async () => {
          throw new Error('kaput');
        });
        server.get('/missing/:id', async (_request, reply) =>
          reply.code(404).send({ error: 'no such thing' }),
        );
        server.get('/health', async () => ({ ok: true }));
      },
      koa(server, router) {
        server.use(koaTracing(options));
        router.get('/workflows/:id', async (ctx) => {
          ctx.body = await loadWorkflow(ctx.params.id!);
        });
        router.get('/boom', async () => {
          throw new Error('kaput');
        });
        router.get('/missing/:id', (ctx) => {
          ctx.status = 404;
          ctx.body = { error: 'no such thing' };
        });
        router.get('/health', (ctx) => {
          ctx.body = { ok: true };
        });
      },
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    handle.memoryExporter!.reset();
    upstream.received.length = 0;
  });

  it('records a server span with kysely and fetch children, named by route template', async () => {
    const res = await httpGet(`${app.url}/workflows/7?debug=1`, {
      'x-request-id': 'rid-7',
      'x-tenant': 'acme',
    });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { name: string; nodes: number; requestId: string; traceId: string };
    expect(body).toMatchObject({ name: 'nightly build', nodes: 3, requestId: 'rid-7' });

    const server = await waitForSpan(spans, (s) => s.kind === SpanKind.SERVER);
    expect(server.name).toBe('GET /workflows/:id');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/workflows/:id',
      'http.response.status_code': 200,
      'url.path': '/workflows/7',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'network.protocol.version': '1.1',
      'http.request.header.x-tenant': ['acme'],
    });
    expect(server.attributes['server.port']).toBe(Number(new URL(app.url).port));
    expect(server.attributes['url.query']).toBeUndefined();
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    expect(parentOf(server)).toBeUndefined();
    expect(body.traceId).toBe(server.spanContext().traceId);
    expect(res.headers.traceresponse).toBe(`00-${server.spanContext().traceId}-${idOf(server)}-01`);

    const query = await waitForSpan(spans, (s) => s.attributes['db.system.name'] === 'sqlite');
    expect(query.name).toBe('SELECT workflows');
    expect(query.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(query)).toBe(idOf(server));
    expect(query.attributes).toMatchObject({
      'db.operation.name': 'SELECT',
      'db.collection.name': 'workflows',
      'db.response.returned_rows': 1,
    });
    expect(query.attributes['db.query.text']).toBe('select * from "workflows" where "id" = ?');

    const outgoing = await waitForSpan(spans, (s) => s.kind === SpanKind.CLIENT && s !== query);
    expect(parentOf(outgoing)).toBe(idOf(server));
    expect(outgoing.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(outgoing.attributes['http.response.status_code']).toBe(200);
    // The downstream service got the fetch span as its parent.
    expect(upstream.received[0]?.traceparent).toBe(`00-${server.spanContext().traceId}-${idOf(outgoing)}-01`);
  });

  it('continues an incoming traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    await httpGet(`${app.url}/workflows/7`, { traceparent: `00-${traceId}-${parent}-01` });
    const server = await waitForSpan(spans, (s) => s.kind === SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(traceId);
    expect(parentOf(server)).toBe(parent);
    expect(server.parentSpanContext?.isRemote).toBe(true);
    expect(upstream.received[0]?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  it('records nothing for an unsampled caller but still propagates its decision', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await httpGet(`${app.url}/workflows/7`, { traceparent: `00-${traceId}-b7ad6b7169203331-00` });
    expect(res.status).toBe(200);
    expect(res.headers.traceresponse).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    expect(upstream.received[0]?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(spans()).toEqual([]);
  });

  it('marks a failing request as an error and records the exception', async () => {
    const res = await httpGet(`${app.url}/boom`);
    expect(res.status).toBe(500);
    const server = await waitForSpan(spans, (s) => s.kind === SpanKind.SERVER);
    expect(server.name).toBe('GET /boom');
    expect(server.attributes['http.response.status_code']).toBe(500);
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.attributes['error.type']).toBe('Error');
    const exception = server.events.find((event) => event.name === 'exception');
    expect(exception?.attributes?.['exception.message']).toBe('kaput');
  });

  it('leaves client errors unset, and names unmatched routes by method only', async () => {
    expect((await httpGet(`${app.url}/missing/3`)).status).toBe(404);
    const missing = await waitForSpan(spans, (s) => s.kind === SpanKind.SERVER);
    expect(missing.name).toBe('GET /missing/:id');
    expect(missing.status.code).toBe(SpanStatusCode.UNSET);
    expect(missing.attributes['error.type']).toBeUndefined();
    handle.memoryExporter!.reset();
    expect((await httpGet(`${app.url}/no/such/route/42`)).status).toBe(404);
    const unmatched = await waitForSpan(spans, (s) => s.kind === SpanKind.SERVER);
    expect(unmatched.name).toBe('GET');
    expect(unmatched.attributes['http.route']).toBeUndefined();
    expect(unmatched.attributes['url.path']).toBe('/no/such/route/42');
  });

  it('skips requests the skip predicate names', async () => {
    const res = await httpGet(`${app.url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.traceresponse).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(spans()).toEqual([]);
  });
});

import { AsyncLocalStorage } from 'node:async_hooks';
import { frameworks, type RunningApp } from '@plat/testkit';
import {
  currentContext,
  type FinishedResponse,
  type HttpExchange,
  PlatError,
  type PlatMiddleware,
  type PlatRoute,
  setPrincipal,
  statusTable,
} from '../src';
import { expressMiddleware, expressRoutes } from '../src/express';
import { fastifyPlugin, fastifyRoutes } from '../src/fastify';
import { koaExchange, koaMiddleware, koaRoutes } from '../src/koa';

/** Stands in for another library's async context (OpenTelemetry's, say) entered around `next`. */
const tagStore = new AsyncLocalStorage<string>();
const statusOf = statusTable({ DENIED: 403, MISSING: 404 });

// Middleware 1: authenticates from a header, can refuse, and can fail with a typed error.
const authenticate: PlatMiddleware = async (ex) => {
  await new Promise((resolve) => setTimeout(resolve, 1));
  if (ex.header('x-block') !== undefined) return { status: 418, body: { blocked: true } };
  if (ex.header('x-deny') !== undefined)
    throw new PlatError('DENIED', 'Denied by policy', { details: { policy: 'p1' } });
  const user = ex.header('x-user');
  if (user !== undefined) setPrincipal({ id: user });
  // Registered after `record`'s listener, so it runs before it (finish listeners unwind).
  ex.onFinish(() => {
    ex.context.annotations.authChecked = true;
  });
  return undefined;
};

// Middleware 2: runs the rest of the request inside its own async context.
const tag: PlatMiddleware = (ex, next) => {
  tagStore.run(`tag:${ex.method}`, next);
  return undefined;
};

interface Seen {
  route: string | undefined;
  finished: FinishedResponse;
  requestId: string;
  annotations: Record<string, unknown>;
}
const seen: Seen[] = [];
const record: PlatMiddleware = (ex) => {
  ex.onFinish((finished) =>
    seen.push({
      route: ex.route(),
      finished,
      requestId: ex.context.requestId,
      annotations: { ...ex.context.annotations },
    }),
  );
  return undefined;
};

function snapshot(extra: Record<string, unknown> = {}) {
  const ctx = currentContext();
  return { requestId: ctx?.requestId, principal: ctx?.principal?.id, tag: tagStore.getStore(), ...extra };
}

const adminRoutes: PlatRoute[] = [
  {
    method: 'GET',
    path: '/things/:id',
    handler: (ex) => ({ status: 200, body: snapshot({ id: ex.params.id }) }),
  },
  {
    method: 'POST',
    path: '/things',
    handler: async (ex) => ({ status: 201, headers: { 'x-made': '1' }, body: { got: await ex.readBody() } }),
  },
  {
    method: 'GET',
    path: '/missing/:id',
    handler: (ex) => {
      throw new PlatError('MISSING', `No thing ${ex.params.id}`);
    },
  },
];
const adminGuard: PlatMiddleware = (ex) =>
  ex.header('x-admin') === 'yes' ? undefined : { status: 401, body: { error: 'admin only' } };
const routeOptions = { prefix: '/admin', guard: adminGuard, statusOf };

const echo = (body: unknown) => snapshot({ body });

describe.each(frameworks)('core bridges on $name', (fw) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await fw.start({
      express(server) {
        for (const mw of [record, authenticate, tag]) server.use(expressMiddleware(mw, { statusOf }));
        server.use(expressRoutes(adminRoutes, routeOptions));
        server.get('/items/:id', (_req, res) => {
          setTimeout(() => res.json(snapshot()), 2);
        });
        server.post('/echo', (req, res) => {
          res.json(echo(req.body));
        });
      },
      async fastify(server) {
        for (const mw of [record, authenticate, tag]) await server.register(fastifyPlugin(mw, { statusOf }));
        await server.register(fastifyRoutes(adminRoutes, routeOptions));
        server.get('/items/:id', async () => {
          await new Promise((resolve) => setTimeout(resolve, 2));
          return snapshot();
        });
        server.post('/echo', async (request) => echo(request.body));
      },
      koa(server, router) {
        for (const mw of [record, authenticate, tag]) server.use(koaMiddleware(mw, { statusOf }));
        server.use(koaRoutes(adminRoutes, routeOptions));
        router.get('/items/:id', async (ctx) => {
          await new Promise((resolve) => setTimeout(resolve, 2));
          ctx.body = snapshot();
        });
        router.post('/echo', async (ctx) => {
          ctx.body = echo(await koaExchange(ctx).readBody());
        });
      },
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    seen.length = 0;
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, { headers });
  const waitForFinish = async () => {
    for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    return seen[0]!;
  };

  it('opens one context shared by every middleware and the handler', async () => {
    const res = await get('/items/7', { 'x-request-id': 'rid-1', 'x-user': 'alice' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ requestId: 'rid-1', principal: 'alice', tag: 'tag:GET' });
    const finish = await waitForFinish();
    expect(finish.route).toBe('/items/:id');
    expect(finish.requestId).toBe('rid-1');
    expect(finish.finished).toMatchObject({ status: 200, aborted: false, bytes: expect.any(Number) });
    expect(finish.finished.bytes).toBeGreaterThan(10);
    expect(finish.annotations).toEqual({ authChecked: true });
  });

  it('keeps both contexts through body parsing', async () => {
    const res = await fetch(`${app.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'bob' },
      body: JSON.stringify({ a: [1, 2] }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ principal: 'bob', tag: 'tag:POST', body: { a: [1, 2] } });
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends a reply returned by a middleware and stops there', async () => {
    const res = await get('/items/7', { 'x-block': '1' });
    expect(res.status).toBe(418);
    expect(await res.json()).toEqual({ blocked: true });
  });

  it('answers a typed error from a middleware as problem+json', async () => {
    const res = await get('/items/7', { 'x-deny': '1' });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ code: 'DENIED', detail: 'Denied by policy', policy: 'p1' });
  });

  it('serves routes under a prefix, behind the guard, with route templates', async () => {
    expect((await get('/admin/things/x%20y')).status).toBe(401);
    const res = await get('/admin/things/x%20y', { 'x-admin': 'yes', 'x-user': 'carol' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'x y', principal: 'carol', tag: 'tag:GET' });
    expect((await waitForFinish()).route).toBe('/admin/things/:id');
  });

  it('reads JSON bodies in routes and rejects broken ones with a typed error', async () => {
    const post = (body: string) =>
      fetch(`${app.url}/admin/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-admin': 'yes' },
        body,
      });
    const ok = await post('{"name":"n1"}');
    expect(ok.status).toBe(201);
    expect(ok.headers.get('x-made')).toBe('1');
    expect(await ok.json()).toEqual({ got: { name: 'n1' } });
    const broken = await post('{"name":');
    expect(broken.status).toBe(400);
    // Express (express.json) and Fastify reject it in their own parsers; Koa has none, so we do.
    if (fw.name === 'koa') expect(await broken.json()).toMatchObject({ code: 'INVALID_BODY' });
  });

  it('maps errors thrown by route handlers and passes unmatched paths on', async () => {
    const res = await get('/admin/missing/9?token=s3cret', { 'x-admin': 'yes' });
    expect(res.status).toBe(404);
    const text = await res.text();
    // The instance is the path: a query string may hold secrets or the refused input.
    expect(text).not.toContain('s3cret');
    expect(JSON.parse(text)).toMatchObject({
      code: 'MISSING',
      detail: 'No thing 9',
      instance: '/admin/missing/9',
    });
    expect((await get('/admin/nothing-here', { 'x-admin': 'yes' })).status).toBe(404);
  });
});

describe('exchange contract', () => {
  it('is the same object for every middleware of a request', async () => {
    const exchanges: HttpExchange[] = [];
    const grab: PlatMiddleware = (ex) => {
      exchanges.push(ex);
      return undefined;
    };
    const app = await frameworks[0]!.start({
      express(server) {
        server.use(expressMiddleware(grab));
        server.use(expressMiddleware(grab));
        server.get('/', (_req, res) => res.end('ok'));
      },
    });
    try {
      await fetch(`${app.url}/`);
      expect(exchanges).toHaveLength(2);
      expect(exchanges[0]).toBe(exchanges[1]);
    } finally {
      await app.close();
    }
  });
});

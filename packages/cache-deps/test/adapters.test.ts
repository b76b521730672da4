import type { HttpExchange } from '@plat/core';
import { describeErrorHandlers, frameworks, type RunningApp } from '@plat/testkit';
import { type Cache, CacheError, createCache, type ResponseCacheOptions } from '../src';
import {
  responseCache as expressCache,
  errorHandler as expressHandler,
  responseDependsOn,
} from '../src/express';
import { errorHandler as fastifyHandler, responseCacheHook } from '../src/fastify';
import { responseCache as koaCache, errorHandler as koaHandler } from '../src/koa';

describeErrorHandlers(
  '@plat/cache-deps',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new CacheError('STORE_UNAVAILABLE', 'Redis is not reachable'),
  503,
);

/** What each route does, written once; the framework glue below only sends it. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

let namespaceCounter = 0;

describe.each(frameworks)('response caching on $name', (fw) => {
  let app: RunningApp;
  let cache: Cache;
  const calls = new Map<string, number>();

  const handle = (route: string, params: Record<string, string>): Answer => {
    const n = (calls.get(route) ?? 0) + 1;
    calls.set(route, n);
    const json = (body: unknown, headers: Record<string, string> = {}) => ({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body: JSON.stringify(body),
    });
    switch (route) {
      case 'user':
        return json({ id: params.id, n }, { etag: `"u${params.id}-${n}"` });
      case 'team':
        responseDependsOn(`team:${params.id}`);
        return json({ team: params.id, n });
      case 'text':
        return {
          status: 200,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: `plain ${n} ✓`,
        };
      case 'private':
        return json({ n }, { 'cache-control': 'private, max-age=60' });
      case 'cookie':
        return json({ n }, { 'set-cookie': 'session=abc; HttpOnly' });
      case 'fail':
        return { status: 500, headers: { 'content-type': 'text/plain' }, body: `failed ${n}` };
      case 'big':
        return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(2048) + n };
      default:
        return { status: 404, headers: {}, body: '' };
    }
  };

  const options = (extra: ResponseCacheOptions = {}): ResponseCacheOptions => ({
    dependsOn: (ex: HttpExchange) => (ex.params.id === undefined ? [] : [`user:${ex.params.id}`]),
    maxBodyBytes: 1024,
    ...extra,
  });
  const routes = ['user', 'team', 'text', 'private', 'cookie', 'fail', 'big'] as const;
  const pathOf = (route: string) => (route === 'user' || route === 'team' ? `/${route}/:id` : `/${route}`);

  beforeAll(async () => {
    cache = createCache({ namespace: `http${++namespaceCounter}`, defaultTtl: 60_000 });
    app = await fw.start({
      express(server) {
        for (const route of routes) {
          server.get(pathOf(route), expressCache(cache, options()), (req, res) => {
            const answer = handle(route, req.params as Record<string, string>);
            res.status(answer.status).set(answer.headers).send(answer.body);
          });
        }
        server.post('/user/:id', expressCache(cache, options()), (_req, res) => {
          res.json({ posted: true });
        });
      },
      fastify(server) {
        for (const route of routes) {
          server.get(
            pathOf(route),
            { onRequest: responseCacheHook(cache, options()) },
            async (request, reply) => {
              const answer = handle(route, request.params as Record<string, string>);
              return reply.code(answer.status).headers(answer.headers).send(answer.body);
            },
          );
        }
        server.post('/user/:id', { onRequest: responseCacheHook(cache, options()) }, async () => ({
          posted: true,
        }));
      },
      koa(_server, router) {
        for (const route of routes) {
          router.get(pathOf(route), koaCache(cache, options()), (ctx) => {
            const answer = handle(route, ctx.params as Record<string, string>);
            ctx.status = answer.status;
            ctx.set(answer.headers);
            ctx.body = answer.body;
          });
        }
        router.post('/user/:id', koaCache(cache, options()), (ctx) => {
          ctx.body = { posted: true };
        });
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await cache.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, { headers });

  it('answers a repeated GET from the cache with x-cache: hit and the same headers', async () => {
    const first = await get('/user/1');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('miss');
    const body = await first.json();
    expect(body).toEqual({ id: '1', n: 1 });
    const second = await get('/user/1');
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(second.headers.get('content-type')).toMatch(/^application\/json/);
    expect(second.headers.get('etag')).toBe('"u1-1"');
    expect(await second.json()).toEqual(body);
    expect(calls.get('user')).toBe(1);
  });

  it('replays text bodies byte for byte', async () => {
    const first = await (await get('/text')).text();
    const second = await get('/text');
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(second.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await second.text()).toBe(first);
  });

  it('refreshes on Cache-Control: no-cache and skips the cache entirely on no-store', async () => {
    await get('/user/2');
    const refreshed = await get('/user/2', { 'cache-control': 'no-cache' });
    expect(refreshed.headers.get('x-cache')).toBe('miss');
    expect(await refreshed.json()).toMatchObject({ id: '2', n: calls.get('user') });
    const after = await get('/user/2');
    expect(after.headers.get('x-cache')).toBe('hit');
    expect(await after.json()).toMatchObject({ n: calls.get('user') });
    const bypass = await get('/user/3', { 'cache-control': 'no-store' });
    expect(bypass.headers.get('x-cache')).toBe('miss');
    expect((await get('/user/3')).headers.get('x-cache')).toBe('miss');
  });

  it('drops a cached response when what it depends on is invalidated', async () => {
    await get('/user/4');
    await get('/user/5');
    expect((await get('/user/4')).headers.get('x-cache')).toBe('hit');
    await cache.invalidate('user:4');
    expect((await get('/user/4')).headers.get('x-cache')).toBe('miss');
    expect((await get('/user/5')).headers.get('x-cache')).toBe('hit');
  });

  it('lets handlers declare dependencies with responseDependsOn', async () => {
    await get('/team/9');
    expect((await get('/team/9')).headers.get('x-cache')).toBe('hit');
    await cache.invalidate('team:9');
    const after = await get('/team/9');
    expect(after.headers.get('x-cache')).toBe('miss');
    expect(await after.json()).toMatchObject({ team: '9', n: 2 });
  });

  it('does not cache private responses, cookies, errors or oversized bodies', async () => {
    for (const path of ['/private', '/cookie', '/fail', '/big']) {
      await get(path);
      const again = await get(path);
      expect(again.headers.get('x-cache')).toBe('miss');
    }
    expect(calls.get('private')).toBe(2);
    expect(calls.get('fail')).toBe(2);
    expect((await get('/big')).headers.get('content-length')).toBe(String(2048 + 1));
  });

  it('leaves other methods alone', async () => {
    const res = await fetch(`${app.url}/user/1`, { method: 'POST' });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('x-cache')).toBeNull();
  });
});

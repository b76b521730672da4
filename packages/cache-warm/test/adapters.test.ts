import { createCache } from '@plat/cache-deps';
import type { HttpExchange } from '@plat/core';
import { describeErrorHandlers, frameworks, type RunningApp } from '@plat/testkit';
import { CacheWarmError, createWarmer } from '../src';
import * as expressAdapter from '../src/express';
import * as fastifyAdapter from '../src/fastify';
import * as koaAdapter from '../src/koa';

describeErrorHandlers(
  '@plat/cache-warm',
  {
    express: expressAdapter.errorHandler,
    fastify: fastifyAdapter.errorHandler,
    koa: koaAdapter.errorHandler,
  },
  () => new CacheWarmError('UNKNOWN_WARMER', 'no such warmer'),
  404,
);

const guard = (exchange: HttpExchange) =>
  exchange.header('x-admin') === 'yes' ? undefined : { status: 403, body: { error: 'admin only' } };

describe.each(frameworks)('@plat/cache-warm admin endpoint on $name', (fw) => {
  let app: RunningApp;
  const cache = createCache();
  const warmer = createWarmer({ cache });
  let loads = 0;
  warmer.register('catalog', {
    keys: ['catalog:1', 'catalog:2'],
    load: (key) => {
      loads += 1;
      if (key === 'catalog:2') throw new Error('row missing');
      return { key };
    },
    ttl: '1m',
  });
  const options = { warmer, guard, prefix: '/admin' };

  beforeAll(async () => {
    app = await fw.start({
      express(server) {
        server.use(expressAdapter.warmAdminRoutes(options));
        server.use(expressAdapter.errorHandler);
      },
      async fastify(server) {
        server.setErrorHandler(fastifyAdapter.errorHandler);
        await server.register(fastifyAdapter.warmAdminRoutes(options));
      },
      koa(server) {
        server.use(koaAdapter.errorHandler);
        server.use(koaAdapter.warmAdminRoutes(options));
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await warmer.stop();
    await cache.close();
  });

  const admin = { 'x-admin': 'yes' };

  it('refuses callers the guard refuses', async () => {
    expect((await fetch(`${app.url}/admin/_warm`)).status).toBe(403);
    expect((await fetch(`${app.url}/admin/_warm/catalog/run`, { method: 'POST' })).status).toBe(403);
    expect(loads).toBe(0);
  });

  it('runs a warmer on demand and lists it with its last runs and failures', async () => {
    const response = await fetch(`${app.url}/admin/_warm/catalog/run`, { method: 'POST', headers: admin });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      warmer: 'catalog',
      trigger: 'manual',
      warmed: 1,
      failed: 1,
      failures: [{ key: 'catalog:2', code: 'LOAD_FAILED', message: 'row missing' }],
    });
    const list = await fetch(`${app.url}/admin/_warm`, { headers: admin });
    expect(list.status).toBe(200);
    expect(list.headers.get('cache-control')).toBe('no-store');
    const body = (await list.json()) as { warmers: Array<{ lastRuns: unknown[] } & Record<string, unknown>> };
    expect(body.warmers).toHaveLength(1);
    expect(body.warmers[0]!).toMatchObject({ name: 'catalog', running: false, circuit: 'closed' });
    expect(body.warmers[0]!.lastRuns[0]).toMatchObject({ warmed: 1, failed: 1 });
  });

  it('answers an unknown warmer with problem+json 404', async () => {
    const response = await fetch(`${app.url}/admin/_warm/nope/run`, { method: 'POST', headers: admin });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ code: 'UNKNOWN_WARMER' });
  });
});

describe('admin endpoint options', () => {
  it('requires a guard', () => {
    const warmer = createWarmer({ cache: createCache() });
    expect(() => expressAdapter.warmAdminRoutes({ warmer } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('guard') }),
    );
    void warmer.stop();
  });
});

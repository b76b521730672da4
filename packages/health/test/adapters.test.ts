/**
 * One behaviour suite for the three adapters: the same registry is mounted on Express, Fastify and
 * Koa through the bridges (`healthProbes`), and on each framework's raw server (`serveProbes`, in
 * front of an app whose every route answers 401), and every request is sent to all six, whose
 * answers must be identical (status, headers that matter, and body byte for byte, since cached
 * check results are shared).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeErrorHandlers, frameworks } from '@plat/testkit';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import {
  createHealth,
  detailsForToken,
  type Health,
  HealthError,
  type HealthRoutesOptions,
  type StartupTask,
} from '../src';
import { errorHandler as expressHandler, healthProbes as expressProbes } from '../src/express';
import { errorHandler as fastifyHandler, healthProbes as fastifyProbes } from '../src/fastify';
import { errorHandler as koaHandler, healthProbes as koaProbes } from '../src/koa';
import { recordingLogger } from './support/logger';

const TOKEN = 'monitoring-token-0123456789';

interface Target {
  name: string;
  url: string;
  /** What the app answers for a path that is not a probe. */
  otherwise: number;
  close(): Promise<void>;
}

async function listening(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server): () => Promise<void> {
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/** Each framework's server with the probes served in front of an app that refuses everything. */
async function rawTargets(health: Health, optionSets: readonly HealthRoutesOptions[]): Promise<Target[]> {
  const expressApp = express();
  expressApp.use((_req, res) => {
    res.status(401).end();
  });
  const expressServer = createServer(expressApp);
  const koaApp = new Koa();
  koaApp.use((ctx) => {
    ctx.status = 401;
  });
  const koaServer = createServer(koaApp.callback());
  const fastifyApp = Fastify();
  fastifyApp.addHook('onRequest', async (_request, reply) => reply.code(401).send());
  for (const options of optionSets) {
    health.serveProbes(expressServer, options);
    health.serveProbes(koaServer, options);
    health.serveProbes(fastifyApp.server, options);
  }
  await fastifyApp.listen({ port: 0, host: '127.0.0.1' });
  return [
    {
      name: 'express server',
      url: await listening(expressServer),
      otherwise: 401,
      close: closer(expressServer),
    },
    { name: 'koa server', url: await listening(koaServer), otherwise: 401, close: closer(koaServer) },
    {
      name: 'fastify server',
      url: `http://127.0.0.1:${(fastifyApp.server.address() as AddressInfo).port}`,
      otherwise: 401,
      close: () => fastifyApp.close(),
    },
  ];
}

describe('health probes on Express, Fastify and Koa (bridges and raw servers)', () => {
  let health: Health;
  let warmUp: StartupTask;
  let apps: Target[];

  beforeAll(async () => {
    health = createHealth({
      serviceId: 'workflows',
      version: '1',
      releaseId: '1.4.2',
      eventLoop: false,
      logger: recordingLogger(),
      // Long enough that all three frameworks are answered from the same results.
      cache: { ttlMs: 60_000, failureTtlMs: 60_000 },
      shutdown: { exit: false, signals: [], delayMs: 60_000 },
    });
    health.addCheck({
      name: 'postgres',
      kind: 'dependency',
      measurement: 'responseTime',
      componentType: 'datastore',
      run: () => ({ observedValue: 1.25, observedUnit: 'ms', componentId: 'db.internal:5432' }),
    });
    health.addCheck({
      name: 'disk',
      kind: 'resource',
      run: () => ({
        measurement: 'freePercent',
        status: 'warn',
        observedValue: 8,
        observedUnit: 'percent',
        output: '8% free on /data',
      }),
    });
    warmUp = health.startupTask('warm-up');
    const main: HealthRoutesOptions = { details: detailsForToken(TOKEN) };
    const custom: HealthRoutesOptions = {
      paths: { liveness: '/livez', readiness: '/readyz', startup: '/startupz' },
      details: 'none',
    };
    const bridged = await Promise.all(
      frameworks.map((fw) =>
        fw.start({
          express(app) {
            app.use(expressProbes(health, main));
            app.use(expressProbes(health, custom));
          },
          async fastify(app) {
            await app.register(fastifyProbes(health, main));
            await app.register(fastifyProbes(health, custom));
          },
          koa(app) {
            app.use(koaProbes(health, main));
            app.use(koaProbes(health, custom));
          },
        }),
      ),
    );
    apps = [
      ...bridged.map((app) => ({
        name: app.framework,
        url: app.url,
        otherwise: 404,
        close: () => app.close(),
      })),
      ...(await rawTargets(health, [main, custom])),
    ];
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    health.close();
  });

  interface Answer {
    framework: string;
    status: number;
    contentType: string | null;
    cacheControl: string | null;
    body: string;
  }

  /**
   * Sends the same request to every framework and checks that they answer identically (apart from
   * what `volatile` matches: a running task's elapsed time is measured per request).
   */
  async function everywhere(
    path: string,
    init: RequestInit = {},
    volatile?: RegExp,
  ): Promise<Answer & { json: Record<string, unknown> }> {
    const answers: Answer[] = await Promise.all(
      apps.map(async (app) => {
        const res = await fetch(`${app.url}${path}`, init);
        return {
          framework: app.name,
          status: res.status,
          contentType: res.headers.get('content-type'),
          cacheControl: res.headers.get('cache-control'),
          body: await res.text(),
        };
      }),
    );
    const comparable = (answer: Answer) => ({
      ...answer,
      framework: '',
      body: volatile === undefined ? answer.body : answer.body.replace(volatile, '<volatile>'),
    });
    const [first, ...others] = answers;
    for (const other of others) expect(comparable(other)).toEqual(comparable(first!));
    return {
      ...first!,
      json: first!.body === '' ? {} : (JSON.parse(first!.body) as Record<string, unknown>),
    };
  }

  it('while starting: startup and readiness answer 503, liveness 200', async () => {
    const running = /"observedValue":\d+,"observedUnit":"ms","status":"warn","time":"[^"]+"/;
    const startup = await everywhere('/health/startup', {}, running);
    expect(startup.status).toBe(503);
    expect(startup.contentType).toBe('application/health+json');
    expect(startup.cacheControl).toBe('no-store');
    expect(startup.json).toMatchObject({ status: 'fail', output: 'starting: waiting for warm-up' });
    const ready = await everywhere('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'fail', output: 'starting: waiting for warm-up' });
    const live = await everywhere('/health/live');
    expect(live.status).toBe(200);
    expect(live.json).toEqual({ status: 'pass', checks: {} });
  });

  it('once started: startup passes, readiness warns (200) with statuses but no internals', async () => {
    warmUp.complete();
    const startup = await everywhere('/health/startup');
    expect(startup.status).toBe(200);
    expect(startup.json.status).toBe('pass');
    const ready = await everywhere('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({
      status: 'warn',
      checks: {
        'postgres:responseTime': [
          {
            componentType: 'datastore',
            observedValue: 1.25,
            observedUnit: 'ms',
            status: 'pass',
            time: expect.any(String),
          },
        ],
        'disk:freePercent': [
          {
            componentType: 'system',
            observedValue: 8,
            observedUnit: 'percent',
            status: 'warn',
            time: expect.any(String),
          },
        ],
      },
    });
    expect(ready.body).not.toMatch(/db\.internal|8% free|1\.4\.2|workflows/);
  });

  it('shows everything to a caller with the token, and only statuses to a wrong one', async () => {
    const full = await everywhere('/health/ready', { headers: { 'x-health-token': TOKEN } });
    expect(full.json).toMatchObject({
      status: 'warn',
      serviceId: 'workflows',
      version: '1',
      releaseId: '1.4.2',
      checks: {
        'postgres:responseTime': [{ componentId: 'db.internal:5432', status: 'pass' }],
        'disk:freePercent': [{ status: 'warn', output: '8% free on /data' }],
      },
    });
    const wrong = await everywhere('/health/ready', { headers: { 'x-health-token': `${TOKEN}x` } });
    expect(wrong.body).not.toMatch(/db\.internal|8% free/);
  });

  it('serves configured paths, here with the status alone', async () => {
    expect((await everywhere('/readyz')).body).toBe('{"status":"warn"}');
    expect((await everywhere('/livez')).body).toBe('{"status":"pass"}');
    expect((await everywhere('/startupz')).body).toBe('{"status":"pass"}');
  });

  it('answers HEAD with the status and no body', async () => {
    const head = await everywhere('/health/ready', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('leaves other paths and methods to the framework', async () => {
    const expected = apps.map((app) => app.otherwise);
    const answers = await Promise.all(apps.map((app) => fetch(`${app.url}/health/other`)));
    expect(answers.map((res) => res.status)).toEqual(expected);
    const posts = await Promise.all(apps.map((app) => fetch(`${app.url}/health/ready`, { method: 'POST' })));
    expect(posts.map((res) => res.status)).toEqual(expected);
    const query = await Promise.all(apps.map((app) => fetch(`${app.url}/health/live?verbose=1`)));
    expect(query.map((res) => res.status)).toEqual(apps.map(() => 200));
  });

  it('fails readiness (503) when a critical dependency fails; liveness stays 200', async () => {
    const remove = health.addCheck({
      name: 'redis',
      kind: 'dependency',
      measurement: 'responseTime',
      run: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:6379')),
    });
    const ready = await everywhere('/health/ready', { headers: { 'x-health-token': TOKEN } });
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({
      status: 'fail',
      checks: { 'redis:responseTime': [{ status: 'fail', output: 'connect ECONNREFUSED 10.0.0.7:6379' }] },
    });
    expect((await everywhere('/health/ready')).body).not.toMatch(/10\.0\.0\.7/);
    expect((await everywhere('/health/live')).status).toBe(200);
    remove();
    expect((await everywhere('/health/ready')).status).toBe(200);
  });

  it('fails readiness as soon as shutdown starts; liveness stays 200', async () => {
    void health.shutdown('test');
    const ready = await everywhere('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json).toEqual({ status: 'fail', output: 'shutting down', checks: {} });
    expect((await everywhere('/health/live')).status).toBe(200);
  });
});

describeErrorHandlers(
  '@plat/health',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new HealthError('INVALID_OPTIONS', 'bad options'),
  500,
);

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HttpExchange, toProblem } from '@plat/core';
import { describeErrorHandlers, frameworks, type RunningApp } from '@plat/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import {
  createBulkhead,
  createDbPerf,
  createLoader,
  DbPerfError,
  dbLogFields,
  type Loader,
  type UnitOfWorkSummary,
} from '../src';
import * as expressAdapter from '../src/express';
import * as fastifyAdapter from '../src/fastify';
import * as koaAdapter from '../src/koa';
import { type BlogDb, createBlogSchema } from './fixtures';

describeErrorHandlers(
  '@plat/db-perf',
  {
    express: expressAdapter.errorHandler,
    fastify: fastifyAdapter.errorHandler,
    koa: koaAdapter.errorHandler,
  },
  () => new DbPerfError('OVERLOADED', 'busy', { details: { retryAfterSeconds: 2 } }),
  503,
);

let dir: string;
let db: Kysely<BlogDb>;
const perf = createDbPerf({ logger: false });
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plat-db-perf-http-'));
  db = perf.attach(
    new Kysely<BlogDb>({
      dialect: new SqliteDialect({ database: new Database(join(dir, 'blog.db')) }),
      log: perf.log,
    }),
  );
  await createBlogSchema(db, 10);
});
afterAll(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** The same handlers for every framework: an N+1 endpoint, its loader version, and a gated slow one. */
let users: Loader<number, BlogDb['users']>;
beforeAll(() => {
  users = createLoader(db, { table: 'users', key: 'id' });
});
async function postsWithAuthorsNPlusOne() {
  const posts = await db.selectFrom('posts').selectAll().orderBy('id').execute();
  const out = [];
  for (const post of posts) {
    out.push(await db.selectFrom('users').selectAll().where('id', '=', post.author_id).executeTakeFirst());
  }
  return out.map((user) => user?.name);
}
async function postsWithAuthorsLoader() {
  const posts = await db.selectFrom('posts').selectAll().orderBy('id').execute();
  const authors = await Promise.all(posts.map((post) => users.load(post.author_id)));
  return authors.map((user) => user?.name);
}
let releaseSlow: () => void = () => {};
let slowGate = Promise.resolve();
function closeGate() {
  slowGate = new Promise<void>((resolve) => {
    releaseSlow = resolve;
  });
}

describe.each(frameworks)('@plat/db-perf adapters on $name', (fw) => {
  let app: RunningApp;
  const summaries: Array<{ summary: UnitOfWorkSummary; route: string | undefined }> = [];
  const bulkhead = createBulkhead({ concurrency: 1, maxQueue: 1, queueTimeoutMs: 5000, name: 'reports' });
  const adapter = { express: expressAdapter, fastify: fastifyAdapter, koa: koaAdapter }[fw.name];
  const unitOptions = {
    serverTiming: true,
    onSummary: (summary: UnitOfWorkSummary, exchange: HttpExchange) =>
      summaries.push({ summary, route: exchange.path }),
    skip: (exchange: HttpExchange) => exchange.path === '/health',
  };
  const statsOptions = {
    perf,
    bulkheads: [bulkhead],
    pgStatStatements: true,
    guard: (exchange: HttpExchange) =>
      exchange.header('x-admin') === 'yes' ? undefined : { status: 403, body: { error: 'admin only' } },
  };

  beforeAll(async () => {
    app = await fw.start({
      express(server) {
        server.use(expressAdapter.dbUnitOfWork(unitOptions));
        server.use(expressAdapter.dbStatsRoutes(statsOptions));
        server.get('/n1', async (_req, res) => {
          res.json(await postsWithAuthorsNPlusOne());
        });
        server.get('/loader', async (_req, res) => {
          res.json(await postsWithAuthorsLoader());
        });
        server.get('/slow', expressAdapter.dbBulkhead(bulkhead), async (_req, res) => {
          await slowGate;
          res.json({ ok: true });
        });
        server.use(expressAdapter.errorHandler);
      },
      async fastify(server) {
        server.setErrorHandler(fastifyAdapter.errorHandler);
        await server.register(fastifyAdapter.dbUnitOfWork(unitOptions));
        await server.register(fastifyAdapter.dbStatsRoutes(statsOptions));
        server.get('/n1', async () => postsWithAuthorsNPlusOne());
        server.get('/loader', async () => postsWithAuthorsLoader());
        await server.register(async (scoped) => {
          await scoped.register(fastifyAdapter.dbBulkhead(bulkhead));
          scoped.get('/slow', async () => {
            await slowGate;
            return { ok: true };
          });
        });
      },
      koa(server, router) {
        server.use(koaAdapter.errorHandler);
        server.use(koaAdapter.dbUnitOfWork(unitOptions));
        server.use(koaAdapter.dbStatsRoutes(statsOptions));
        router.get('/n1', async (ctx) => {
          ctx.body = await postsWithAuthorsNPlusOne();
        });
        router.get('/loader', async (ctx) => {
          ctx.body = await postsWithAuthorsLoader();
        });
        router.get('/slow', koaAdapter.dbBulkhead(bulkhead), async (ctx) => {
          await slowGate;
          ctx.body = { ok: true };
        });
      },
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    summaries.length = 0;
  });

  /** Summaries arrive when the response is finished, a moment after the client has it. */
  const waitForSummary = async (path: string, nth = 0) => {
    const of = () => summaries.filter((entry) => entry.route === path);
    for (let i = 0; i < 1000 && of().length <= nth; i++) await new Promise((r) => setTimeout(r, 5));
    return of()[nth]!;
  };

  it('reports the N+1 of a request once, in its summary and Server-Timing', async () => {
    const res = await fetch(`${app.url}/n1`, { headers: { 'x-request-id': `n1-${fw.name}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveLength(10);
    expect(res.headers.get('server-timing')).toMatch(/^db;dur=\d+(\.\d)?;desc="11 queries, 1 N\+1"$/);
    const { summary } = await waitForSummary('/n1');
    expect(summary).toMatchObject({ requestId: `n1-${fw.name}`, queries: 11 });
    expect(summary.nPlusOne).toHaveLength(1);
    expect(summary.nPlusOne[0]).toMatchObject({ count: 10, requestId: `n1-${fw.name}` });
    expect(dbLogFields(summary).db).toMatchObject({ queries: 11, nPlusOne: [{ count: 10 }] });
  });

  it('runs the loader version as 2 queries with a per-request cache', async () => {
    const res = await fetch(`${app.url}/loader`);
    expect(await res.json()).toHaveLength(10);
    expect(res.headers.get('server-timing')).toMatch(/desc="2 queries"$/);
    const { summary } = await waitForSummary('/loader');
    expect(summary.queries).toBe(2);
    expect(summary.nPlusOne).toEqual([]);
    // A second request does not reuse the first one's cached rows.
    await fetch(`${app.url}/loader`);
    expect((await waitForSummary('/loader', 1)).summary.queries).toBe(2);
  });

  it('sheds load beyond the bulkhead queue with 503 and Retry-After while admitted requests complete', async () => {
    closeGate();
    const first = fetch(`${app.url}/slow`);
    const second = fetch(`${app.url}/slow`);
    for (let i = 0; i < 1000 && bulkhead.stats().queued < 1; i++) await new Promise((r) => setTimeout(r, 5));
    expect(bulkhead.stats()).toMatchObject({ active: 1, queued: 1 });
    const shed = await fetch(`${app.url}/slow`);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(shed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await shed.json()).toMatchObject({
      code: 'OVERLOADED',
      bulkhead: 'reports',
      active: 1,
      queued: 1,
    });
    releaseSlow();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    for (let i = 0; i < 1000 && bulkhead.stats().active > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(bulkhead.stats()).toMatchObject({ active: 0, queued: 0 });
  });

  it('serves /_db/stats behind its guard, without parameter values', async () => {
    await fetch(`${app.url}/n1`);
    expect((await fetch(`${app.url}/_db/stats`)).status).toBe(403);
    const res = await fetch(`${app.url}/_db/stats?orderBy=calls&limit=3`, { headers: { 'x-admin': 'yes' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as {
      queries: { queries: Array<{ fingerprint: string; calls: number }> };
      bulkheads: Array<{ name: string; active: number; queued: number }>;
      pgStatStatements: unknown;
    };
    expect(body.queries.queries.length).toBeLessThanOrEqual(3);
    expect(body.queries.queries[0]!.fingerprint).toBe('select * from "users" where "id" = ?');
    expect(body.bulkheads).toEqual([expect.objectContaining({ name: 'reports', active: 0, queued: 0 })]);
    expect(body.pgStatStatements).toMatchObject({ available: false, reason: 'not-postgres' });
    expect(JSON.stringify(body)).not.toContain('@example.com');
  });

  it('answers OVERLOADED from a handler as a 503 problem', () => {
    const problem = toProblem(
      new DbPerfError('OVERLOADED', 'busy', { details: { retryAfterSeconds: 3 } }),
      (error) => ({ OVERLOADED: 503 })[error.code],
    );
    expect(problem.headers['retry-after']).toBe('3');
    expect(adapter.dbUnitOfWork).toEqual(expect.any(Function));
  });
});

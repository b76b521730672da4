import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PlatMiddleware, runWithContext } from '@plat/core';
import { describeErrorHandlers, frameworks, type RunningApp } from '@plat/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { type AggregateDefinition, createEventStore, type EventStore, EventStoreError } from '../src';
import { errorHandler as expressHandler, eventStoreRouter as expressRouter } from '../src/express';
import { errorHandler as fastifyHandler, eventStoreRouter as fastifyRouter } from '../src/fastify';
import { errorHandler as koaHandler, eventStoreRouter as koaRouter } from '../src/koa';

describeErrorHandlers(
  '@plat/event-store',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new EventStoreError('WRONG_EXPECTED_VERSION', 'stream moved', { details: { actualVersion: 3 } }),
  409,
);

interface Counter {
  count: number;
  last: string | null;
}
const counter: AggregateDefinition<Counter> = {
  initialState: () => ({ count: 0, last: null }),
  evolve: (state, event) => ({ count: state.count + 1, last: event.type }),
};

const adminOnly: PlatMiddleware = (ex) =>
  ex.header('x-admin') === 'yes' ? undefined : { status: 401, body: { error: 'admin only' } };

describe('history router', () => {
  let dir: string;
  let db: Kysely<unknown>;
  let store: EventStore;
  let middle: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plat-es-http-'));
    db = new Kysely({ dialect: new SqliteDialect({ database: new Database(join(dir, 'events.db')) }) });
    store = createEventStore({ db });
    await store.migrate();
    await runWithContext({ principal: { id: 'alice' }, requestId: 'r1' }, async () => {
      await store.append('counter-1', [
        { type: 'Started', data: {} },
        { type: 'Ticked', data: {} },
      ]);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    middle = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runWithContext({ principal: { id: 'bob' } }, () =>
      store.append('counter-1', [{ type: 'Stopped', data: {} }], { expectedVersion: 2 }),
    );
    await store.append('counter-2', [{ type: 'Started', data: {} }]);
    await store.deleteStream('counter-2');
  });
  afterAll(async () => {
    await store.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each(frameworks)('on $name', (fw) => {
    let app: RunningApp;
    beforeAll(async () => {
      const options = { prefix: '/debug/events', guard: adminOnly, aggregates: { counter } };
      app = await fw.start({
        express: (server) => {
          server.use(expressRouter(store, options));
        },
        fastify: async (server) => {
          await server.register(fastifyRouter(store, options));
        },
        koa: (server) => {
          server.use(koaRouter(store, options));
        },
      });
    });
    afterAll(() => app.close());

    const get = async (path: string, admin = true) => {
      const res = await fetch(`${app.url}/debug/events${path}`, {
        headers: admin ? { 'x-admin': 'yes' } : {},
      });
      return {
        status: res.status,
        type: res.headers.get('content-type') ?? '',
        body: (await res.json()) as Record<string, unknown>,
      };
    };

    it('refuses callers the guard refuses', async () => {
      expect((await get('/streams/counter-1', false)).status).toBe(401);
      expect((await get('/audit', false)).status).toBe(401);
    });

    it('serves a stream with paging', async () => {
      const all = await get('/streams/counter-1');
      expect(all.status).toBe(200);
      expect(all.body).toMatchObject({ streamId: 'counter-1', version: 3, exists: true });
      expect((all.body.events as Array<{ type: string }>).map((e) => e.type)).toEqual([
        'Started',
        'Ticked',
        'Stopped',
      ]);
      const page = await get('/streams/counter-1?from=3&backwards=true&limit=2');
      expect((page.body.events as Array<{ version: number }>).map((e) => e.version)).toEqual([3, 2]);
    });

    it('replays state by version and by time', async () => {
      const byVersion = await get('/streams/counter-1/state?version=2');
      expect(byVersion.body).toMatchObject({
        aggregate: 'counter',
        version: 2,
        state: { count: 2, last: 'Ticked' },
      });
      const byTime = await get(`/streams/counter-1/state?asOf=${encodeURIComponent(middle)}`);
      expect(byTime.body).toMatchObject({ version: 2, state: { count: 2 } });
      const now = await get('/streams/counter-1/state');
      expect(now.body).toMatchObject({ version: 3, state: { count: 3, last: 'Stopped' } });
    });

    it('answers bad requests as problem+json', async () => {
      const missing = await get('/streams/counter-404');
      expect(missing.status).toBe(404);
      expect(missing.type).toMatch(/^application\/problem\+json/);
      expect(missing.body).toMatchObject({ code: 'STREAM_NOT_FOUND' });
      expect((await get('/streams/other-1/state')).body).toMatchObject({
        status: 404,
        code: 'UNKNOWN_AGGREGATE',
      });
      expect((await get('/streams/counter-1/state?aggregate=__proto__')).body).toMatchObject({
        code: 'UNKNOWN_AGGREGATE',
      });
      expect((await get('/streams/counter-1/state?version=-1')).body).toMatchObject({
        status: 400,
        code: 'INVALID_ARGUMENT',
      });
      expect((await get('/streams/counter-1/state?asOf=soon')).status).toBe(400);
      expect((await get('/streams/counter-1/state?version=1&asOf=0')).status).toBe(400);
      expect((await get('/streams/counter-2')).body).toMatchObject({ status: 410, code: 'STREAM_DELETED' });
      expect((await get('/log?after=zzz')).status).toBe(400);
    });

    it('serves the audit log and the global log', async () => {
      const alice = await get('/audit?actor=alice');
      expect(
        (alice.body.entries as Array<{ type: string; actor: string }>).map((e) => [e.type, e.actor]),
      ).toEqual([
        ['Ticked', 'alice'],
        ['Started', 'alice'],
      ]);
      const typed = await get('/audit?type=Stopped,Started&streamPrefix=counter-1&order=asc');
      expect((typed.body.entries as Array<{ type: string }>).map((e) => e.type)).toEqual([
        'Started',
        'Stopped',
      ]);
      const log = await get('/log?limit=2');
      expect((log.body.events as unknown[]).length).toBe(2);
      expect(log.body.caughtUp).toBe(false);
      const rest = await get(`/log?after=${encodeURIComponent(String(log.body.next))}`);
      expect((rest.body.events as unknown[]).length).toBe(3);
    });
  });
});

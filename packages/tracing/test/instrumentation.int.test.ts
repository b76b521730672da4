import { describeWithServices, POSTGRES, REDIS } from '@plat/testkit';
import { runFixture } from './helpers/fixture';

interface FixtureSpan {
  name: string;
  kind: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentId: string | undefined;
  attributes: Record<string, unknown>;
  status: number;
}

const TRACE_IDS = {
  express: '11111111111111111111111111111111',
  fastify: '22222222222222222222222222222222',
  koa: '33333333333333333333333333333333',
};

// The app runs in its own Node process (test/fixtures/instrumented-app.ts): the pg and node-redis
// instrumentations patch modules as Node loads them, which jest's module system bypasses.
describeWithServices([POSTGRES, REDIS], 'auto-instrumentation in a real process', () => {
  let result: { answers: Record<string, unknown>; spans: FixtureSpan[] };
  beforeAll(async () => {
    result = await runFixture(
      'instrumented-app',
      {
        PLAT_TEST_PG_URL: process.env.PLAT_TEST_PG_URL!,
        PLAT_TEST_REDIS_URL: process.env.PLAT_TEST_REDIS_URL!,
      },
      // The fixture is an ES module: `node:http` is only patched through the ESM loader hook.
      { esmHooks: true, timeoutMs: 60_000 },
    );
  }, 60_000);

  it.each(Object.keys(TRACE_IDS))(
    '%s: server → kysely → pg, redis, fetch and http client spans',
    (framework) => {
      expect(result.answers[framework]).toEqual({ name: 'nightly build', cached: null, nodes: 6 });
      const traceId = TRACE_IDS[framework as keyof typeof TRACE_IDS];
      const trace = result.spans.filter((span) => span.traceId === traceId);
      const server = trace.find((span) => span.kind === 'SERVER')!;
      expect(server).toBeDefined();
      expect(server.name).toBe('GET /workflows/:id');
      expect(server.parentId).toBe('aaaaaaaaaaaaaaaa');
      expect(server.attributes).toMatchObject({
        'http.route': '/workflows/:id',
        'http.response.status_code': 200,
      });
      const children = trace.filter((span) => span.parentId === server.spanId);

      const query = children.find((span) => span.name === 'SELECT workflows')!;
      expect(query.attributes).toMatchObject({
        'db.system.name': 'postgresql',
        'db.query.text': 'select * from "workflows" where "id" = $1',
      });
      const pgSpan = trace.find((span) => span.parentId === query.spanId)!;
      expect(pgSpan.scope).toBe('@opentelemetry/instrumentation-pg');
      expect(pgSpan.attributes['db.system.name']).toBe('postgresql');
      expect(pgSpan.attributes['db.query.text']).toBe('select * from "workflows" where "id" = $1');

      const redis = children.find((span) => span.scope === '@opentelemetry/instrumentation-redis')!;
      expect(redis.kind).toBe('CLIENT');
      expect(redis.attributes).toMatchObject({ 'db.system.name': 'redis', 'db.operation.name': 'GET' });

      const fetchSpan = children.find((span) => span.scope === '@opentelemetry/instrumentation-undici')!;
      expect(fetchSpan.kind).toBe('CLIENT');
      expect(fetchSpan.attributes['url.full']).toMatch(/\/nodes$/);
      const httpSpan = children.find((span) => span.scope === '@opentelemetry/instrumentation-http')!;
      expect(httpSpan.kind).toBe('CLIENT');
      expect(httpSpan.attributes['url.full']).toMatch(/\/edges$/);

      // Inbound requests are traced by the adapter only: Node's HTTP server is not patched.
      expect(trace.filter((span) => span.kind === 'SERVER')).toHaveLength(1);
    },
  );
});

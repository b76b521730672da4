/**
 * One behaviour suite for the example service, run once per framework against real PostgreSQL and
 * Redis: every package's part of a request is checked over HTTP, the same way on each app.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NPlusOneReport } from '@plat/db-perf';
import { createMemoryTransport, type MemoryTransport } from '@plat/logging';
import { describeWithPostgres, describeWithRedis } from '@plat/testkit';
import type { TracingHandle } from '@plat/tracing';
import {
  createWorkflowService,
  ensureAdminKey,
  readConfig,
  startTracing,
  type WorkflowService,
  type WorkflowState,
} from '@plat-example/workflow-service';
import { type ExampleName, type StartedApp, startExample } from './apps';

const trigger = { id: 'start', type: 'trigger', config: { kind: 'manual' } };
const doubler = { id: 'double', type: 'code', config: { code: 'return { n: input.n * 2 };' } };

/** Where the service keeps its data in one run of the suite. */
export type Backend = 'services' | 'postgres' | 'embedded';

/**
 * Registers the suite for one example app: on PostgreSQL and Redis (`services`, skipped with a note
 * when PLAT_TEST_PG_URL / PLAT_TEST_REDIS_URL are unset), on PostgreSQL alone (`postgres`: the
 * in-process cache, key revocations over LISTEN / NOTIFY), or on the embedded defaults the demo uses
 * (SQLite and the in-process cache), which need nothing installed.
 */
export function describeExample(name: ExampleName, backend: Backend = 'services'): void {
  if (backend === 'embedded') {
    describe(`workflow service on ${name} (SQLite, in-process cache)`, () => suite(name, () => ({})));
    return;
  }
  if (backend === 'postgres') {
    describeWithPostgres(`workflow service on ${name} (PostgreSQL, in-process cache)`, (pg) =>
      suite(name, () => ({ PLAT_PG_URL: pg.url })),
    );
    return;
  }
  describeWithPostgres(`workflow service on ${name} (PostgreSQL)`, (pg) => {
    // The keyspace's own clean-up also removes the warmer's hash-tagged sets (`{<prefix>warm:pop:…}`).
    describeWithRedis('and Redis', (redis) => {
      describe('over HTTP', () => {
        suite(name, () => ({
          PLAT_PG_URL: pg.url,
          PLAT_REDIS_URL: redis.url,
          PLAT_REDIS_PREFIX: redis.prefix,
        }));
      });
    });
  });
}

/** The behaviour, whatever the backend; `backendEnv` is read once the services are ready. */
function suite(name: ExampleName, backendEnv: () => Record<string, string>): void {
  let dependency: Server;
  let service: WorkflowService;
  let app: StartedApp;
  let logs: MemoryTransport;
  let tracing: TracingHandle;
  let adminKey: string;
  let userKey: string;
  const nPlusOne: NPlusOneReport[] = [];

  async function call<T = unknown>(method: string, path: string, key?: string, body?: unknown) {
    const headers: Record<string, string> = {};
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
  }
  const create = (body: unknown) => call<WorkflowState>('POST', '/workflows', userKey, body);

  beforeAll(async () => {
    // An HTTP dependency for the readiness probe (a stand-in for, say, a vector database).
    dependency = createServer((_req, res) => res.end('ok'));
    dependency.listen(0, '127.0.0.1');
    await once(dependency, 'listening');
    logs = createMemoryTransport();
    const config = readConfig({
      OTEL_SERVICE_NAME: `workflows-e2e-${name}`,
      NODE_ENV: 'development',
      LOG_FORMAT: 'json',
      ...backendEnv(),
      PLAT_DEPENDENCY_URL: `http://127.0.0.1:${(dependency.address() as AddressInfo).port}/healthz`,
      PLAT_API_KEY_PEPPER: 'e2e-pepper-that-is-at-least-32-bytes-long',
      // Long enough that the checks below run well inside the window; the suite waits it out once.
      PLAT_SHUTDOWN_DELAY_MS: '3000',
    });
    tracing = startTracing(config, {});
    service = await createWorkflowService(config, {
      logger: { transports: [logs] },
      hooks: { onNPlusOne: (report) => nPlusOne.push(report) },
      exitOnShutdown: false,
    });
    await service.started();
    app = await startExample[name](service);
    const admin = await ensureAdminKey(service, () => {});
    adminKey = admin!.key;
  });

  afterAll(async () => {
    await app?.close();
    if (service?.health.state !== 'stopped') await service?.close();
    dependency?.close();
    await tracing?.shutdown();
  });

  it('answers the probes, checking the database, Redis and the HTTP dependency', async () => {
    expect((await call('GET', '/health/live')).status).toBe(200);
    expect((await call('GET', '/health/startup')).status).toBe(200);
    const ready = await call<{ status: string }>('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toContain('application/health+json');
    const full = await service.health.probe('readiness');
    const dependencies = ['database', 'dependency', ...(service.redis ? ['redis'] : [])];
    for (const dependency of dependencies) {
      expect(full.checks[`${dependency}:responseTime`]?.[0]?.status).toBe('pass');
    }
  });

  it('protects routes with API keys and lets only an admin manage keys', async () => {
    const anonymous = await call<{ code: string }>('GET', '/workflows');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('MISSING_KEY');

    const created = await call<{ key: string }>('POST', '/api-keys', adminKey, {
      ownerId: 'user_1',
      name: 'e2e',
      scopes: ['workflows:read', 'workflows:write', 'workflows:run'],
    });
    expect(created.status).toBe(201);
    userKey = created.body.key;
    expect((await call('GET', '/workflows', userKey)).status).toBe(200);

    const notAdmin = await call<{ code: string }>('GET', '/api-keys?ownerId=user_1', userKey);
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.code).toBe('INSUFFICIENT_SCOPE');
    const readOnly = await call<{ key: string; keyId: string }>('POST', '/api-keys', adminKey, {
      ownerId: 'user_1',
      name: 'read only',
      scopes: ['workflows:read'],
    });
    const denied = await call<{ code: string }>('POST', '/workflows', readOnly.body.key, {
      name: 'x',
      nodes: [trigger],
    });
    expect(denied.status).toBe(403);

    const keyId = readOnly.body.keyId;
    expect((await call('GET', '/workflows', readOnly.body.key)).status).toBe(200);
    expect((await call('DELETE', `/api-keys/${keyId}?reason=leaked`, adminKey)).status).toBe(200);
    const revoked = await call<{ code: string }>('GET', '/workflows', readOnly.body.key);
    expect(revoked.status).toBe(401);
    expect(revoked.body.code).toBe('REVOKED');
  });

  it('rejects attacks in workflow bodies with the reason, and stores nothing', async () => {
    const xss = await create({ name: '<script>alert(1)</script>', nodes: [trigger] });
    expect(xss.status).toBe(400);
    expect(xss.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [expect.objectContaining({ location: 'body', path: 'name' })],
    });
    // The reason names the rule, never echoes the submitted value.
    expect(JSON.stringify(xss.body)).not.toContain('alert(1)');
    const sandboxEscape = await create({
      name: 'escape',
      nodes: [{ id: 'c', type: 'code', config: { code: 'return require("child_process")' } }],
    });
    expect(sandboxEscape.status).toBe(400);
    expect(JSON.stringify(sandboxEscape.body)).toContain('nodes.0.config.code');
    const traversal = await create({
      name: 'files',
      nodes: [{ id: 'f', type: 'file', config: { operation: 'read', path: '../../etc/passwd' } }],
    });
    expect(traversal.status).toBe(400);
    expect((await call<unknown[]>('GET', '/workflows', userKey)).body).toEqual([]);
  });

  let workflow: WorkflowState;
  let beforePublish: string;

  it('caches reads and invalidates the workflow and the list by cascade on change', async () => {
    const created = await create({ name: 'Nightly report', nodes: [trigger, doubler] });
    expect(created.status).toBe(201);
    workflow = created.body;

    const first = await call('GET', `/workflows/${workflow.id}`, userKey);
    const second = await call<WorkflowState>('GET', `/workflows/${workflow.id}`, userKey);
    expect([first.headers.get('x-cache'), second.headers.get('x-cache')]).toEqual(['hit', 'hit']);
    expect((await call('GET', '/workflows', userKey)).headers.get('x-cache')).toBe('miss');
    expect((await call('GET', '/workflows', userKey)).headers.get('x-cache')).toBe('hit');

    const added = await call('POST', `/workflows/${workflow.id}/nodes`, userKey, {
      id: 'wait',
      type: 'delay',
      config: { seconds: 5 },
    });
    expect(added.status).toBe(201);
    // The node list changed: the workflow and the owner's list were dropped with it.
    const list = await call<WorkflowState[]>('GET', '/workflows', userKey);
    expect(list.headers.get('x-cache')).toBe('miss');
    expect(list.body[0]!.nodes.map((n) => n.id)).toEqual(['start', 'double', 'wait']);
    expect((await call('GET', `/workflows/${workflow.id}`, userKey)).headers.get('x-cache')).toBe('hit');

    const removed = await call<WorkflowState>('DELETE', `/workflows/${workflow.id}/nodes/wait`, userKey);
    expect(removed.body.nodes.map((n) => n.id)).toEqual(['start', 'double']);
    expect((await call('DELETE', `/workflows/${workflow.id}/nodes/wait`, userKey)).status).toBe(404);
    beforePublish = new Date().toISOString();
  });

  it('warms popular workflows ahead of requests, with the admin endpoint for admins only', async () => {
    for (let i = 0; i < 3; i++) await call('GET', `/workflows/${workflow.id}`, userKey);
    // An owner-level change drops every entry built from the owner.
    const dropped = await service.cache.invalidate('user:user_1');
    expect(dropped.keys).toContain(`workflow:user_1:${workflow.id}`);
    expect((await call('POST', '/_warm/popular-workflows/run', userKey)).status).toBe(403);
    const run = await call<{ warmed: number; failed: number }>(
      'POST',
      '/_warm/popular-workflows/run',
      adminKey,
    );
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ failed: 0 });
    expect(run.body.warmed).toBeGreaterThanOrEqual(1);
    // Warmed with its dependencies: served from the cache, and still invalidated by a change.
    expect((await call('GET', `/workflows/${workflow.id}`, userKey)).headers.get('x-cache')).toBe('hit');
    const status = await call<{ warmers: Array<{ name: string; refreshAhead: boolean }> }>(
      'GET',
      '/_warm',
      adminKey,
    );
    expect(status.body.warmers).toEqual([
      expect.objectContaining({ name: 'popular-workflows', refreshAhead: true }),
    ]);
    const dependents = await service.cache.dependentsOf(`nodes:${workflow.id}`);
    expect(dependents).toContain(`workflow:user_1:${workflow.id}`);
  });

  it('keeps other owners out', async () => {
    const other = await call<{ key: string }>('POST', '/api-keys', adminKey, {
      ownerId: 'user_2',
      name: 'other',
      scopes: ['workflows:read'],
    });
    const res = await call<{ code: string }>('GET', `/workflows/${workflow.id}`, other.body.key);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('WORKFLOW_NOT_FOUND');
  });

  it('runs code nodes in the sandbox and stops runaway code', async () => {
    const run = await call<{ output: unknown }>('POST', `/workflows/${workflow.id}/run`, userKey, {
      input: { n: 21 },
    });
    expect(run.status).toBe(200);
    expect(run.body.output).toEqual({ n: 42 });

    const spinner = await create({
      name: 'spinner',
      nodes: [
        {
          id: 'spin',
          type: 'code',
          config: { code: 'let n = 0; while (n >= 0) { n++; } return n;', timeoutMs: 50 },
        },
      ],
    });
    const stopped = await call<{ code: string }>('POST', `/workflows/${spinner.body.id}/run`, userKey, {});
    expect(spinner.status).toBe(201);
    expect(stopped.status).toBe(422);
    expect(stopped.body.code).toBe('SANDBOX_TIMEOUT');
  });

  it('records every change as an event, with history and time travel', async () => {
    await call('POST', `/workflows/${workflow.id}/publish`, userKey);
    const again = await call<{ code: string }>('POST', `/workflows/${workflow.id}/publish`, userKey);
    expect(again.body.code).toBe('ALREADY_PUBLISHED');

    const history = await call<{ events: Array<{ type: string; version: number }> }>(
      'GET',
      `/workflows/${workflow.id}/history`,
      userKey,
    );
    expect(history.body.events.map((e) => e.type)).toEqual([
      'WorkflowCreated',
      'NodeAdded',
      'NodeAdded',
      'NodeAdded',
      'NodeRemoved',
      'WorkflowPublished',
    ]);
    const atTwo = await call<{ version: number; state: WorkflowState }>(
      'GET',
      `/workflows/${workflow.id}/state?version=2`,
      userKey,
    );
    expect(atTwo.body.version).toBe(2);
    expect(atTwo.body.state.nodes.map((n) => n.id)).toEqual(['start']);
    expect(atTwo.body.state.status).toBe('draft');
    // Between the node removal and the publication: a draft with the two remaining nodes.
    const asOf = await call<{ version: number; state: WorkflowState }>(
      'GET',
      `/workflows/${workflow.id}/state?asOf=${encodeURIComponent(beforePublish)}`,
      userKey,
    );
    expect(asOf.body.version).toBe(5);
    expect(asOf.body.state).toMatchObject({
      status: 'draft',
      nodes: [{ id: 'start' }, { id: 'double' }],
    });
    const bad = await call<{ code: string }>('GET', `/workflows/${workflow.id}/state?version=abc`, userKey);
    expect(bad.status).toBe(400);
  });

  it('puts the trace id of each request in its log line and its events', async () => {
    logs.clear();
    const created = await create({ name: 'Traced', nodes: [trigger] });
    const traceId = created.headers.get('x-trace-id');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const line = logs
      .records()
      .find((r) => (r.http as { route?: string } | undefined)?.route === '/workflows');
    expect(line?.trace_id).toBe(traceId);
    expect(line?.principal_id).toBe('user_1');
    const history = await call<{ events: Array<{ traceId: string; actor: string }> }>(
      'GET',
      `/workflows/${created.body.id}/history`,
      userKey,
    );
    expect(history.body.events[0]).toMatchObject({ traceId, actor: 'user_1' });
    expect(logs.lines.join('\n')).not.toContain(userKey);
  });

  it('lists workflows with their nodes in batched queries (no N+1), and reports database stats', async () => {
    for (let i = 0; i < 4; i++) await create({ name: `Batch ${i}`, nodes: [trigger, doubler] });
    nPlusOne.length = 0;
    const list = await call<WorkflowState[]>('GET', '/workflows', userKey);
    expect(list.headers.get('x-cache')).toBe('miss');
    expect(list.body.length).toBeGreaterThanOrEqual(6);
    expect(list.body.every((w) => w.nodes.length > 0)).toBe(true);
    expect(list.headers.get('server-timing')).toMatch(/^db;dur=/);
    expect(nPlusOne).toEqual([]);

    const stats = await call<{ queries: { totalCalls: number }; bulkheads: Array<{ name: string }> }>(
      'GET',
      '/_db/stats',
      adminKey,
    );
    expect(stats.status).toBe(200);
    expect(stats.body.queries.totalCalls).toBeGreaterThan(0);
    expect(stats.body.bulkheads.map((b) => b.name)).toContain('writes');
    expect((await call('GET', '/_db/stats', userKey)).status).toBe(403);
  });

  it('shuts down gracefully: readiness fails first while requests are still served', async () => {
    const done = service.health.shutdown('e2e');
    expect((await call('GET', '/health/ready')).status).toBe(503);
    expect((await call('GET', '/health/live')).status).toBe(200);
    expect((await call('GET', `/workflows/${workflow.id}`, userKey)).status).toBe(200);
    const report = await done;
    expect(report).toMatchObject({ clean: true });
    await expect(fetch(`${app.url}/health/live`)).rejects.toThrow();
  });
}

/**
 * `pnpm demo`: starts the Fastify example on embedded defaults (SQLite, the in-process cache, no
 * trace export; PLAT_PG_URL, PLAT_REDIS_URL and OTEL_EXPORTER_OTLP_ENDPOINT switch to the real
 * engines), calls it the way a client would and says, step by step, what each package did. Then it
 * keeps serving and prints curl commands. `PLAT_DEMO_EXIT=1` or `--exit` ends after the tour: exit
 * code 0 when every step did what it should, 1 otherwise.
 */
// First, and on its own: tracing starts before the modules it instruments are loaded.
import '@plat-example/workflow-service/tracing';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stripVTControlCharacters } from 'node:util';
import type { InvalidationResult } from '@plat/cache-deps';
import { type NPlusOneReport, profileUnitOfWork, type SlowQueryEvent } from '@plat/db-perf';
import { gracefulShutdown } from '@plat/health/fastify';
import { createBufferedTransport, createMemoryTransport } from '@plat/logging';
import { buildFastifyApp } from '@plat-example/fastify-app';
import {
  ADMIN_OWNER,
  ADMIN_SCOPE,
  cacheKeys,
  createWorkflowService,
  ensureAdminKey,
  readConfig,
  type WorkflowState,
} from '@plat-example/workflow-service';
import { tracing } from '@plat-example/workflow-service/tracing';
import { type Answer, client } from './client';
import { check, say, short, step } from './narrator';

const exitMode = process.env.PLAT_DEMO_EXIT === '1' || process.argv.includes('--exit');

const trigger = { id: 'start', type: 'trigger', config: { kind: 'schedule', cron: '0 3 * * *' } };
const doubler = { id: 'double', type: 'code', config: { code: 'return { n: input.n * 2 };' } };

/** A stand-in for an HTTP dependency (a vector database, say) when PLAT_DEPENDENCY_URL names none. */
async function startStandInDependency(): Promise<Server> {
  const server = createServer((_req, res) => res.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.unref();
}

function problem(answer: Answer): string {
  const issues =
    (answer.body.issues as Array<{ path: string; code: string; message: string }> | undefined) ?? [];
  const lines = issues.map((i) => `  ${i.path}: ${i.code} — ${i.message}`);
  return [`→ ${answer.status} ${answer.body.code}: ${answer.body.detail}`, ...lines].join('\n');
}

async function main(): Promise<number> {
  console.log('plat demo: one workflow service, every @plat package, narrated');

  const standIn = process.env.PLAT_DEPENDENCY_URL ? undefined : await startStandInDependency();
  const config = readConfig({
    NODE_ENV: 'development',
    ...process.env,
    ...(standIn
      ? { PLAT_DEPENDENCY_URL: `http://127.0.0.1:${(standIn.address() as AddressInfo).port}/healthz` }
      : {}),
  });

  // Request logs go to memory during the tour (it quotes one), and to stdout once it is over.
  const memory = createMemoryTransport();
  const stdout = createBufferedTransport({ destination: 'stdout', minLength: 0 });
  stdout.silent = true;
  const invalidations: Array<{ root: string; result: InvalidationResult }> = [];
  const nPlusOne: NPlusOneReport[] = [];
  const slowQueries: SlowQueryEvent[] = [];
  const service = await createWorkflowService(config, {
    logger: { transports: [memory, stdout] },
    hooks: {
      onInvalidate: (root, result) => invalidations.push({ root, result }),
      onNPlusOne: (report) => nPlusOne.push(report),
      onSlowQuery: (event) => slowQueries.push(event),
    },
    exitOnShutdown: !exitMode,
  });
  service.health.onShutdown('tracing', () => tracing.shutdown());
  const app = await buildFastifyApp(service);
  gracefulShutdown(service.health, app);

  // ── 1 ───────────────────────────────────────────────────────────────────────────────────────
  step('@plat/health', 'The service starts');
  await service.started();
  const port = exitMode ? 0 : Number(process.env.PORT ?? 3000);
  try {
    await app.listen({ port, host: '127.0.0.1' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    say(`port ${port} is taken, using a free one instead`);
    await app.listen({ port: 0, host: '127.0.0.1' });
  }
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const call = client(base);
  say(`startup task "migrations" done: the read model and the event store's tables exist`);
  say(`startup task "cache-warm" done: popular workflows loaded (none yet on a new database)`);
  say(`database: ${config.postgresUrl ? 'PostgreSQL (PLAT_PG_URL)' : `SQLite (${config.sqliteFile})`}`);
  say(`cache:    ${config.redisUrl ? 'Redis (PLAT_REDIS_URL), with an in-process L1' : 'in-process'}`);
  say(
    `traces:   ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? `OTLP to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}` : (process.env.OTEL_TRACES_EXPORTER ?? 'recorded, not exported (set OTEL_EXPORTER_OTLP_ENDPOINT)')}`,
  );
  say(`Fastify is listening on ${base}`);

  // ── 2 ───────────────────────────────────────────────────────────────────────────────────────
  step('@plat/health', 'Kubernetes probes');
  for (const probe of ['live', 'startup', 'ready']) {
    const answer = await call<{ status: string; checks?: Record<string, Array<{ status: string }>> }>(
      'GET',
      `/health/${probe}`,
    );
    check(answer.status === 200, `/health/${probe} to answer 200`);
    const checks = Object.entries(answer.body.checks ?? {}).map(([name, r]) => `${name} ${r[0]?.status}`);
    say(
      `GET /health/${probe} → ${answer.status} ${answer.body.status}${checks.length ? `: ${checks.join(', ')}` : ''}`,
    );
  }
  say('readiness checks the database, Redis when configured, and an HTTP dependency;');
  say('liveness never looks at dependencies, so an outage cannot restart every pod');

  // ── 3 ───────────────────────────────────────────────────────────────────────────────────────
  step('@plat/apikeys', 'API keys: an admin issues a key, the routes check it');
  let adminKey = '';
  await ensureAdminKey(service, (line) => {
    adminKey = line.slice(line.lastIndexOf(' ') + 1);
  });
  if (adminKey === '') {
    // A database from an earlier run already has its bootstrap key (shown once, then): an operator
    // with access to the process issues another one the same way.
    adminKey = (
      await service.keys.create({
        ownerId: ADMIN_OWNER,
        name: 'demo tour',
        scopes: [ADMIN_SCOPE],
        expiresInDays: 1,
      })
    ).key;
  }
  say(`bootstrap admin key ${short(adminKey, 22)} (scope api-keys:admin), printed once at first start`);
  const issued = await call<{ key: string; hint: string; scopes: string[] }>('POST', '/api-keys', {
    key: adminKey,
    body: { ownerId: 'ada', name: 'demo', scopes: ['workflows:read', 'workflows:write', 'workflows:run'] },
  });
  check(issued.status === 201, 'POST /api-keys to create a key');
  const key = issued.body.key;
  say(`POST /api-keys → 201: ${issued.body.hint} for owner "ada", scopes ${issued.body.scopes.join(', ')}`);
  say('the full key is in this answer only; the database keeps an HMAC of its secret');
  const readOnly = await call<{ key: string }>('POST', '/api-keys', {
    key: adminKey,
    body: { ownerId: 'ada', name: 'dashboard', scopes: ['workflows:read'] },
  });
  const noKey = await call('GET', '/workflows');
  check(noKey.status === 401, 'a request without a key to be refused');
  say(`GET /workflows without a key → ${noKey.status} ${noKey.body.code}`);
  const typo = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
  const mistyped = await call('GET', '/workflows', { key: typo });
  check(mistyped.status === 401, 'a mistyped key to be refused');
  say(
    `GET /workflows with a mistyped key → ${mistyped.status} ${mistyped.body.code} (checksum, no database lookup)`,
  );
  const scoped = await call('POST', '/workflows', {
    key: readOnly.body.key,
    body: { name: 'x', nodes: [trigger] },
  });
  check(scoped.status === 403, 'a read-only key to be refused on a write');
  say(`POST /workflows with a read-only key → ${scoped.status} ${scoped.body.code}: ${scoped.body.detail}`);
  const notAdmin = await call('GET', '/api-keys?ownerId=ada', { key });
  check(notAdmin.status === 403, 'key management to be admin-only');
  say(`GET /api-keys with ada's key → ${notAdmin.status} (key management is admin-only)`);

  // ── 4 ───────────────────────────────────────────────────────────────────────────────────────
  step('@plat/input-guard', 'SecureWorkflowInput refuses attacks, with the reason');
  const attacks: Array<[string, unknown]> = [
    ['XSS in a name', { name: '<img src=x onerror=alert(1)>', nodes: [trigger] }],
    [
      'a code node reaching for the host',
      {
        name: 'escape',
        nodes: [
          { id: 'c', type: 'code', config: { code: "return require('child_process').execSync('id')" } },
        ],
      },
    ],
    [
      'path traversal in a file node',
      {
        name: 'files',
        nodes: [{ id: 'f', type: 'file', config: { operation: 'read', path: '../../etc/passwd' } }],
      },
    ],
    [
      'SQL injection in a query filter',
      {
        name: 'report',
        nodes: [
          {
            id: 'q',
            type: 'query',
            config: { table: 'orders', where: { status: "x' UNION SELECT password FROM users --" } },
          },
        ],
      },
    ],
  ];
  for (const [what, body] of attacks) {
    const answer = await call('POST', '/workflows', { key, body });
    check(answer.status === 400, `${what} to be refused`);
    say(`${what}:\n${problem(answer)}`);
  }
  say('the answers name the rule that matched and never echo the submitted value');

  // ── 5 ───────────────────────────────────────────────────────────────────────────────────────
  step('@plat/event-store', 'A workflow is created as events');
  const created = await call<WorkflowState>('POST', '/workflows', {
    key,
    body: { name: 'Nightly report', description: 'Doubles a number at 03:00', nodes: [trigger, doubler] },
  });
  check(created.status === 201, 'the workflow to be created');
  const workflow = created.body;
  const createdTraceId = created.headers.get('x-trace-id') ?? '';
  say(`POST /workflows → 201 ${workflow.id}`);
  say(`appended WorkflowCreated + ${workflow.nodes.length} × NodeAdded at version ${workflow.version};`);
  say('the read model (workflows, workflow_nodes) was updated in the same transaction');

  // ── 6 ───────────────────────────────────────────────────────────────────────────────────────
  step('@plat/cache-deps', 'Reads come from the cache');
  const one = await call('GET', `/workflows/${workflow.id}`, { key });
  check(one.headers.get('x-cache') === 'hit', 'the workflow to be served from the cache');
  say(`GET /workflows/${short(workflow.id, 8)} → x-cache: hit (cached when it was created)`);
  say('workflow:ada:<id> depends on user:ada and nodes:<id>');
  const listMiss = await call('GET', '/workflows', { key });
  const listHit = await call('GET', '/workflows', { key });
  check(listHit.headers.get('x-cache') === 'hit', 'the second list read to hit');
  say(
    `GET /workflows → x-cache: ${listMiss.headers.get('x-cache')}, then again → ${listHit.headers.get('x-cache')}`,
  );
  say("workflows:ada depends on user:ada, and every change to one of ada's workflows invalidates it");

  // ── 7 ───────────────────────────────────────────────────────────────────────────────────────
  step('@plat/cache-deps', 'A change invalidates by cascade');
  invalidations.length = 0;
  const added = await call('POST', `/workflows/${workflow.id}/nodes`, {
    key,
    body: {
      id: 'notify',
      type: 'email',
      config: { to: ['ops@example.com'], subject: 'Report', body: 'Done: {{n}}' },
    },
  });
  check(added.status === 201, 'the node to be added');
  const cascade = invalidations.find((i) => i.root.startsWith('nodes:'));
  check(cascade !== undefined, 'the node list to be invalidated');
  const dependent = cacheKeys.workflow('ada', workflow.id);
  check(cascade.result.keys.includes(dependent), 'the cascade to reach the workflow');
  check(cascade.result.keys.includes('workflows:ada'), 'the owner list to be invalidated');
  say(`POST /workflows/…/nodes → 201, NodeAdded appended; then invalidateMany([nodes:<id>, workflows:ada]):`);
  say(
    `  removed ${cascade.result.keys.map((k) => short(k, 20)).join(', ')} in ${cascade.result.levels} levels`,
  );
  say(`  ${short(dependent, 20)} went by cascade: it was built from nodes:<id>`);
  const relisted = await call('GET', '/workflows', { key });
  check(relisted.headers.get('x-cache') === 'miss', 'the list to be rebuilt after the cascade');
  say(`GET /workflows → x-cache: miss: rebuilt with the new node, never served stale`);

  // ── 8 ───────────────────────────────────────────────────────────────────────────────────────
  step('@plat/cache-warm', 'Popular workflows are warmed before anyone asks');
  for (let i = 0; i < 3; i++) await call('GET', `/workflows/${workflow.id}`, { key });
  const hottest = await service.warmer.popularKeys(3, '1h');
  say(`every cache read is counted; the most read keys of the last hour:`);
  say(`  ${hottest.map((k) => `${short(k.key, 24)} ≈ ${Math.round(k.count)}`).join(', ')}`);
  const dropped = await service.cache.invalidate(cacheKeys.user('ada'));
  say(`ada renames herself: invalidate("user:ada") drops ${dropped.keys.length - 1} entries built from it`);
  const warmRun = await call<{ warmed: number; skipped: number; failed: number; durationMs: number }>(
    'POST',
    '/_warm/popular-workflows/run',
    { key: adminKey },
  );
  check(warmRun.status === 200 && warmRun.body.warmed >= 1, 'the warmer to reload popular workflows');
  say(
    `POST /_warm/popular-workflows/run (admin) → warmed ${warmRun.body.warmed}, skipped ${warmRun.body.skipped}, failed ${warmRun.body.failed}, ${Math.round(warmRun.body.durationMs)} ms`,
  );
  const warmedRead = await call('GET', `/workflows/${workflow.id}`, { key });
  check(warmedRead.headers.get('x-cache') === 'hit', 'the warmed workflow to be served from the cache');
  say(`GET /workflows/${short(workflow.id, 8)} → x-cache: hit: the reload happened before the request`);
  const warmStatus = await call<{ warmers: Array<{ schedule?: { cron: string; nextRun?: string } }> }>(
    'GET',
    '/_warm',
    { key: adminKey },
  );
  const schedule = warmStatus.body.warmers[0]?.schedule;
  say(`on its own it runs on "${schedule?.cron}" (next ${schedule?.nextRun}), and refresh-ahead`);
  say('recomputes hot entries just before they expire, so popular reads rarely miss');

  // ── 9 ───────────────────────────────────────────────────────────────────────────────────────
  step('@plat/input-guard', 'Code nodes run in the sandbox');
  const run = await call<{ output: unknown; steps: Array<{ node: string; durationMs: number }> }>(
    'POST',
    `/workflows/${workflow.id}/run`,
    { key, body: { input: { n: 21 } } },
  );
  check(run.status === 200, 'the run to succeed');
  say(
    `POST /workflows/…/run {"input":{"n":21}} → ${JSON.stringify(run.body.output)} (node "double" in QuickJS, ${run.body.steps[0]?.durationMs} ms)`,
  );
  const spinner = await call<WorkflowState>('POST', '/workflows', {
    key,
    body: {
      name: 'Spinner',
      nodes: [
        {
          id: 'spin',
          type: 'code',
          config: { code: 'let n = 0; while (n >= 0) { n++; } return n;', timeoutMs: 100 },
        },
      ],
    },
  });
  const stopped = await call('POST', `/workflows/${spinner.body.id}/run`, { key, body: {} });
  check(stopped.status === 422, 'runaway code to be stopped');
  say(`a code node that never ends → ${stopped.status} ${stopped.body.code}: ${stopped.body.detail}`);

  // ── 10 ──────────────────────────────────────────────────────────────────────────────────────
  step('@plat/event-store', 'History and time travel');
  const beforePublish = new Date().toISOString();
  await call('POST', `/workflows/${workflow.id}/publish`, { key });
  const history = await call<{
    events: Array<{ version: number; type: string; actor: string; traceId: string }>;
  }>('GET', `/workflows/${workflow.id}/history`, { key });
  for (const e of history.body.events)
    say(`v${e.version} ${e.type.padEnd(18)} by ${e.actor}, trace ${short(e.traceId ?? '-', 8)}`);
  const atTwo = await call<{ state: WorkflowState }>('GET', `/workflows/${workflow.id}/state?version=2`, {
    key,
  });
  check(atTwo.body.state.nodes.length === 1, 'the state at version 2 to have one node');
  say(
    `GET …/state?version=2 → ${atTwo.body.state.nodes.length} node (${atTwo.body.state.nodes[0]?.id}), ${atTwo.body.state.status}`,
  );
  const asOf = await call<{ version: number; state: WorkflowState }>(
    'GET',
    `/workflows/${workflow.id}/state?asOf=${encodeURIComponent(beforePublish)}`,
    { key },
  );
  check(asOf.body.state.status === 'draft', 'the state before publishing to be a draft');
  say(
    `GET …/state?asOf=${beforePublish} → v${asOf.body.version}, ${asOf.body.state.status}, ${asOf.body.state.nodes.length} nodes`,
  );

  // ── 11 ──────────────────────────────────────────────────────────────────────────────────────
  step('@plat/tracing + @plat/logging', 'One trace id in the response, the log line and the events');
  await stdout.flush();
  const line = memory.lines.find((l) => l.includes(createdTraceId) && l.includes('POST /workflows'));
  check(line !== undefined && createdTraceId !== '', 'the request log line to carry the trace id');
  say(`the create request answered x-trace-id: ${createdTraceId}; its log line:`);
  const plain = stripVTControlCharacters(line).trim();
  // Long lines end at a field boundary, so no field is shown cut in half.
  say(`  ${plain.length <= 400 ? plain : `${plain.slice(0, plain.lastIndexOf(' ', 400))} …`}`);
  check(history.body.events[0]?.traceId === createdTraceId, 'the first event to carry the same trace id');
  say('WorkflowCreated carries the same trace id in its metadata');
  check(!memory.lines.some((l) => l.includes(key)), 'no API key in the logs');
  say("ada's key appears in no log line (keys are redacted by shape)");

  // ── 12 ──────────────────────────────────────────────────────────────────────────────────────
  step('@plat/db-perf', 'N+1 detection, a loader, slow queries, the bulkhead');
  for (const name of ['Invoices', 'Backups', 'Alerts']) {
    await call('POST', '/workflows', { key, body: { name, nodes: [trigger, doubler] } });
  }
  nPlusOne.length = 0;
  // What a first draft of "list with nodes" often looks like: one query per workflow.
  await profileUnitOfWork(async () => {
    const rows = await service.db
      .selectFrom('workflows')
      .select('id')
      .where('owner_id', '=', 'ada')
      .execute();
    for (const row of rows) {
      await service.db.selectFrom('workflow_nodes').selectAll().where('workflow_id', '=', row.id).execute();
    }
  });
  const report = nPlusOne[0];
  check(report !== undefined, 'the naive listing to be reported as an N+1');
  say(`a naive loop over ${report.count} workflows was reported in development:`);
  say(`  ${report.count} × ${short(report.fingerprint, 80)}`);
  say(`  at ${report.callSite}`);
  say(`  ${report.suggestion}`);
  nPlusOne.length = 0;
  const listed = await call<WorkflowState[]>('GET', '/workflows', { key });
  check(nPlusOne.length === 0, 'the route to load nodes without an N+1');
  say(`GET /workflows lists ${listed.body.length} workflows with their nodes through a batch loader:`);
  say(`  Server-Timing: ${listed.headers.get('server-timing')}`);
  const stats = await call<{
    queries: { totalCalls: number; queries: Array<{ fingerprint: string; calls: number; p95Ms: number }> };
    bulkheads: Array<{ name: string; concurrency: number; admitted: number; rejected: number }>;
  }>('GET', '/_db/stats?orderBy=calls&limit=3', { key: adminKey });
  check(stats.status === 200, 'the admin to read /_db/stats');
  const slowest = [...slowQueries]
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, 3)
    .map((e) => `${e.durationMs.toFixed(1)} ms at ${e.callSite}`);
  say(
    `slow-query log at ≥ ${config.slowQueryMs} ms (PLAT_SLOW_QUERY_MS): ${slowQueries.length === 0 ? 'no query reached it' : `${slowQueries.length}, the slowest:`}`,
  );
  for (const line of slowest) say(`  ${line}`);
  say(`GET /_db/stats (admin): ${stats.body.queries.totalCalls} queries so far, most called:`);
  for (const q of stats.body.queries.queries)
    say(`  ${String(q.calls).padStart(4)} × ${short(q.fingerprint, 70)} (p95 ${q.p95Ms} ms)`);
  const writes = stats.body.bulkheads[0];
  say(
    `bulkhead "${writes?.name}" on write routes: ${writes?.concurrency} at a time, ${writes?.admitted} admitted, ${writes?.rejected} shed`,
  );

  // ── 13 ──────────────────────────────────────────────────────────────────────────────────────
  step('@plat/health', 'Graceful shutdown');
  say('on SIGTERM: readiness fails first, requests in flight drain, then close hooks run in order:');
  say('cache-warm (waits for loads) → sandbox → api-keys (flushes usage) → cache → event-store →');
  say('database → redis → logger → tracing (flushes spans)');

  if (exitMode) {
    const shutdown = await service.health.shutdown('tour finished');
    const failed = shutdown.failedHooks.map((h) => `${h.name}: ${h.error}`).join('; ');
    check(
      shutdown.clean,
      `a clean shutdown (${failed || `${shutdown.abandonedRequests} requests abandoned`})`,
    );
    say(`shut down cleanly in ${Math.round(shutdown.durationMs)} ms`);
    console.log('\nThe tour is complete: every step did what it should.');
    return 0;
  }

  stdout.silent = false;
  console.log(`
The service keeps running at ${base} (Ctrl-C stops it gracefully). Request logs follow below.
Try it (ada's key has workflows:read, write and run; the admin key manages keys):

  export KEY=${key}
  export ADMIN=${adminKey}
  curl -s ${base}/workflows -H "authorization: Bearer $KEY"
  curl -si ${base}/workflows/${workflow.id} -H "authorization: Bearer $KEY" | grep -i x-cache
  curl -s ${base}/workflows/${workflow.id}/history -H "authorization: Bearer $KEY"
  curl -s "${base}/workflows/${workflow.id}/state?version=2" -H "authorization: Bearer $KEY"
  curl -s -X POST ${base}/workflows/${workflow.id}/run -H "authorization: Bearer $KEY" \\
       -H 'content-type: application/json' -d '{"input":{"n":5}}'
  curl -s -X POST ${base}/workflows -H "authorization: Bearer $KEY" -H 'content-type: application/json' \\
       -d '{"name":"<script>alert(1)</script>","nodes":[{"id":"a","type":"delay","config":{"seconds":1}}]}'
  curl -s ${base}/health/ready
  curl -s "${base}/_db/stats?limit=5" -H "authorization: Bearer $ADMIN"
  curl -s "${base}/api-keys?ownerId=ada" -H "authorization: Bearer $ADMIN"
`);
  return -1;
}

main().then(
  (code) => {
    // In exit mode, exit now: nothing the tour opened should keep the process up, and CI must not hang.
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    console.error(`\nThe tour failed: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof Error && error.stack) console.error(error.stack);
    process.exit(1);
  },
);

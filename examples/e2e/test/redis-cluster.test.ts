/**
 * The same service on a 3-master Redis Cluster (PLAT_REDIS_CLUSTER_NODES): the cache graph cascades
 * across slots, API key revocations go through the cluster, and readiness pings it.
 */
import {
  describeWithCommand,
  describeWithPostgres,
  type RedisClusterHandle,
  startRedisCluster,
} from '@plat/testkit';
import {
  createWorkflowService,
  ensureAdminKey,
  readConfig,
  type WorkflowService,
  type WorkflowState,
} from '@plat-example/workflow-service';
import { type StartedApp, startExample } from './apps';

describeWithCommand('redis-server', 'workflow service on a Redis Cluster', () => {
  describeWithPostgres('and PostgreSQL', (pg) => {
    let cluster: RedisClusterHandle;
    let service: WorkflowService;
    let app: StartedApp;
    let adminKey: string;

    async function call<T = Record<string, unknown>>(
      method: string,
      path: string,
      key: string,
      body?: unknown,
    ) {
      const res = await fetch(`${app.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as T };
    }

    beforeAll(async () => {
      cluster = await startRedisCluster({ masters: 3 });
      const config = readConfig({
        NODE_ENV: 'development',
        LOG_LEVEL: 'error',
        PLAT_PG_URL: pg.url,
        PLAT_REDIS_CLUSTER_NODES: cluster.rootNodes.map((n) => n.url).join(','),
        PLAT_API_KEY_PEPPER: 'e2e-pepper-that-is-at-least-32-bytes-long',
      });
      service = await createWorkflowService(config, { exitOnShutdown: false });
      await service.started();
      app = await startExample.fastify(service);
      adminKey = (await ensureAdminKey(service, () => {}))!.key;
    }, 90_000);

    afterAll(async () => {
      await app?.close();
      await service?.close();
      await cluster?.stop();
    });

    it('is ready with the cluster checked', async () => {
      const report = await service.health.probe('readiness');
      // Overall it may be `warn` on a busy machine (event loop, memory); the dependencies must pass.
      expect(report.status).not.toBe('fail');
      expect(report.checks['redis:responseTime']?.[0]?.status).toBe('pass');
      expect(report.checks['database:responseTime']?.[0]?.status).toBe('pass');
    });

    it('invalidates by cascade across slots and revokes keys through the cluster', async () => {
      const issued = await call<{ key: string; keyId: string }>('POST', '/api-keys', adminKey, {
        ownerId: 'user_c',
        name: 'cluster',
        scopes: ['workflows:read', 'workflows:write'],
      });
      const key = issued.body.key;
      const created = await call<WorkflowState>('POST', '/workflows', key, {
        name: 'On the cluster',
        nodes: [{ id: 'start', type: 'trigger', config: { kind: 'manual' } }],
      });
      expect(created.status).toBe(201);
      await call('GET', '/workflows', key);
      expect((await call('GET', '/workflows', key)).headers.get('x-cache')).toBe('hit');
      await call('POST', `/workflows/${created.body.id}/nodes`, key, {
        id: 'wait',
        type: 'delay',
        config: { seconds: 1 },
      });
      const list = await call<WorkflowState[]>('GET', '/workflows', key);
      expect(list.headers.get('x-cache')).toBe('miss');
      expect(list.body[0]!.nodes.map((n) => n.id)).toEqual(['start', 'wait']);

      expect((await call('DELETE', `/api-keys/${issued.body.keyId}`, adminKey)).status).toBe(200);
      const revoked = await call<{ code: string }>('GET', '/workflows', key);
      expect(revoked.status).toBe(401);
      expect(revoked.body.code).toBe('REVOKED');
    });
  });
});

/**
 * The dependency checks against real PostgreSQL and Redis, and against the ways they break: a port
 * nobody listens on, a paused Redis (a private server, never the shared one), a TCP server that
 * accepts and never answers.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  describeWithCommand,
  describeWithDatabases,
  describeWithPostgres,
  describeWithRedis,
  frameworks,
  freePort,
  type RedisServerHandle,
  type RunningApp,
  startRedisServer,
} from '@plat/testkit';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createClient, type RedisClientType } from 'redis';
import { createHealth, type Health, type HealthOptions, postgresCheck, redisCheck } from '../src';
import { healthProbes } from '../src/express';
import { recordingLogger, sleep } from './support/logger';

const made: Health[] = [];
function health(options: HealthOptions = {}): Health {
  const h = createHealth({ logger: recordingLogger(), ...options });
  made.push(h);
  return h;
}
afterEach(() => {
  for (const h of made.splice(0)) h.close();
});

/** A loopback TCP server that accepts connections and never writes a byte. */
async function blackhole(): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** Ends a pool without waiting forever on a connection that can never finish. */
async function endPool(pool: pg.Pool): Promise<void> {
  await Promise.race([pool.end().catch(() => {}), sleep(1000)]);
}

/** How many PINGs the server has executed (INFO commandstats). */
async function pingCalls(admin: RedisClientType): Promise<number> {
  const info = String(await admin.sendCommand(['INFO', 'commandstats']));
  return Number(/cmdstat_ping:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}

describeWithPostgres('postgresCheck on PostgreSQL', (db) => {
  it('passes through a pg pool, a pg client and a Kysely instance', async () => {
    const kysely = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url }) }),
    });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const h = health({ cache: false });
      h.addCheck(postgresCheck(db.pool, { name: 'pool' }));
      h.addCheck(postgresCheck(client, { name: 'client' }));
      h.addCheck(postgresCheck(kysely, { name: 'kysely', latencyMs: { warn: 5000 } }));
      const report = await h.probe('readiness');
      expect(report.status).toBe('pass');
      for (const name of ['pool', 'client', 'kysely']) {
        const entry = report.checks[`${name}:responseTime`]?.[0];
        expect(entry).toMatchObject({ status: 'pass', componentType: 'datastore', observedUnit: 'ms' });
        expect(entry?.observedValue).toBeGreaterThanOrEqual(0);
      }
    } finally {
      await client.end();
      await kysely.destroy();
    }
  });

  it('a burst of 1,000 probes checks out one connection per TTL', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    let checkouts = 0;
    pool.on('acquire', () => checkouts++);
    try {
      const h = health({ cache: { ttlMs: 2000 } });
      h.addCheck(postgresCheck(pool));
      const reports = await Promise.all(Array.from({ length: 1000 }, () => h.probe('readiness')));
      expect(reports.every((report) => report.status === 'pass')).toBe(true);
      expect(checkouts).toBe(1);
      for (let i = 0; i < 200; i++) await h.probe('readiness');
      expect(checkouts).toBe(1);
      await sleep(2050);
      // After the TTL the burst is answered from the last result while one refresh runs.
      await Promise.all(Array.from({ length: 1000 }, () => h.probe('readiness')));
      await sleep(200);
      await Promise.all(Array.from({ length: 1000 }, () => h.probe('readiness')));
      expect(checkouts).toBe(2);
    } finally {
      await pool.end();
    }
  });

  it('a wrong port fails readiness within the timeout while liveness passes', async () => {
    const port = await freePort();
    const pool = new pg.Pool({ connectionString: withPort(db.url, port) });
    const kysely = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: withPort(db.url, port) }) }),
    });
    try {
      const h = health({ timeoutMs: 500 });
      h.addCheck(postgresCheck(pool));
      h.addCheck(postgresCheck(kysely, { name: 'kysely' }));
      const started = performance.now();
      const ready = await h.probe('readiness');
      expect(performance.now() - started).toBeLessThan(500 + 1000);
      expect(ready.status).toBe('fail');
      expect(ready.checks['postgres:responseTime']?.[0]?.output).toMatch(/ECONNREFUSED/);
      expect(ready.checks['kysely:responseTime']?.[0]?.output).toMatch(/ECONNREFUSED/);
      expect((await h.probe('liveness')).status).not.toBe('fail');
    } finally {
      await endPool(pool);
      await kysely.destroy().catch(() => {});
    }
  });

  it('a server that accepts and never answers fails readiness at the timeout', async () => {
    const hole = await blackhole();
    const pool = new pg.Pool({ connectionString: withPort(db.url, hole.port) });
    try {
      const h = health({ timeoutMs: 300 });
      h.addCheck(postgresCheck(pool));
      const started = performance.now();
      const ready = await h.probe('readiness');
      const took = performance.now() - started;
      expect(ready.status).toBe('fail');
      expect(ready.checks['postgres:responseTime']?.[0]?.output).toBe('timed out after 300 ms');
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(300 + 1000);
      expect((await h.probe('liveness')).status).not.toBe('fail');
      // The stuck connection attempt is not stacked on: later probes answer at once.
      await sleep(300);
      const second = await h.probe('readiness');
      expect(second.checks['postgres:responseTime']?.[0]?.output).toMatch(/previous run has not returned/);
    } finally {
      hole.close();
      await endPool(pool);
    }
  });
});

describeWithDatabases('postgresCheck through Kysely on any dialect', (t) => {
  it('runs select 1 through the instance', async () => {
    const h = health({ cache: false });
    h.addCheck(postgresCheck(t.db, { name: t.dialect }));
    const report = await h.probe('readiness');
    expect(report.status).toBe('pass');
    expect(report.checks[`${t.dialect}:responseTime`]?.[0]?.status).toBe('pass');
  });
});

describeWithRedis('redisCheck on Redis', (redis) => {
  it('passes with PING and reports the round trip', async () => {
    const h = health({ cache: false });
    h.addCheck(redisCheck(redis.client));
    const report = await h.probe('readiness');
    expect(report.status).toBe('pass');
    expect(report.checks['redis:responseTime']?.[0]).toMatchObject({
      status: 'pass',
      componentType: 'datastore',
      observedUnit: 'ms',
    });
  });
});

describeWithCommand('redis-server', 'redisCheck against a private Redis that is paused, then stopped', () => {
  let server: RedisServerHandle;
  let client: RedisClientType;
  let admin: RedisClientType;
  let app: RunningApp;
  let h: Health;
  beforeAll(async () => {
    server = await startRedisServer();
    client = createClient({ url: server.url, socket: { reconnectStrategy: 100 } });
    client.on('error', () => {});
    admin = createClient({ url: server.url });
    admin.on('error', () => {});
    await client.connect();
    await admin.connect();
    h = createHealth({
      logger: recordingLogger(),
      timeoutMs: 400,
      cache: { ttlMs: 1000, failureTtlMs: 100 },
    });
    h.addCheck(redisCheck(client));
    app = await frameworks[0]!.start({
      express(server) {
        server.use(healthProbes(h, { details: 'full' }));
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    h?.close();
    if (admin?.isOpen) admin.destroy();
    if (client?.isOpen) client.destroy();
    await server?.stop();
  });

  const probe = async (path: string) => {
    const started = performance.now();
    const res = await fetch(`${app.url}${path}`);
    const body = (await res.json()) as {
      status: string;
      checks: Record<string, Array<{ status: string; output?: string }>>;
    };
    return { status: res.status, body, ms: performance.now() - started };
  };

  it('passes while Redis answers', async () => {
    const ready = await probe('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks['redis:responseTime']?.[0]?.status).toBe('pass');
  });

  it('CLIENT PAUSE makes readiness fail within the timeout, liveness still passes, and it recovers', async () => {
    await sleep(1500); // let the cached pass expire (TTL + timeout: stale answers end there too)
    const pingsBefore = await pingCalls(admin);
    // While paused, Redis also holds CLIENT UNPAUSE from other connections, so the pause is short.
    const pausedUntil = performance.now() + 1500;
    await admin.sendCommand(['CLIENT', 'PAUSE', '1500', 'ALL']);
    const ready = await probe('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('fail');
    expect(ready.body.checks['redis:responseTime']?.[0]?.output).toBe('timed out after 400 ms');
    expect(ready.ms).toBeGreaterThanOrEqual(380);
    expect(ready.ms).toBeLessThan(400 + 1000);
    const live = await probe('/health/live');
    expect(live.status).toBe(200);
    // Probes during the pause do not wait again: the stuck PING is not stacked on.
    await sleep(150); // past the failure TTL
    const again = await probe('/health/ready');
    expect(again.status).toBe(503);
    expect(again.body.checks['redis:responseTime']?.[0]?.output).toMatch(/previous run has not returned/);
    // Once the pause ends the stuck PING returns, and the next probe runs a fresh one.
    await sleep(pausedUntil - performance.now() + 300);
    const recovered = await probe('/health/ready');
    expect(recovered.status).toBe(200);
    // The stuck PING and the one after recovery: nothing piled up during the pause.
    expect((await pingCalls(admin)) - pingsBefore).toBe(2);
  }, 15_000);

  it('a stopped Redis fails readiness at once (the client is not connected), liveness passes', async () => {
    await server.stop();
    for (let i = 0; i < 50 && client.isReady; i++) await sleep(20);
    await sleep(1500); // let the cached pass expire (TTL + timeout)
    const ready = await probe('/health/ready');
    expect(ready.status).toBe(503);
    // Not a timeout: the disconnected client is reported as such without waiting.
    expect(ready.body.checks['redis:responseTime']?.[0]?.output).toBe('client is not connected');
    expect((await probe('/health/live')).status).toBe(200);
  });
});

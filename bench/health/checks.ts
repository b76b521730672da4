/**
 * The same readiness checks for every system: PostgreSQL `select 1` + Redis PING + heap usage when
 * the services are configured, otherwise an in-process set (heap usage + a simulated 2 ms network
 * dependency). Each system runs them its own way; `runs` counts how often they really ran.
 */
import { getHeapStatistics } from 'node:v8';
import { type HealthCheck, httpCheck, memoryCheck, postgresCheck, redisCheck } from '@plat/health';
import pg from 'pg';
import { createClient } from 'redis';

/** `http:<url>`: one HTTP dependency at that URL (the hung-dependency benchmark). */
export type CheckMode = 'services' | 'local' | `http:${string}`;

export interface CheckSet {
  /** How many times the set ran (all checks once = one run). */
  runs: number;
  /** Runs every check by hand, as a terminus or lightship user writes it; throws when one fails. */
  checkAll(): Promise<void>;
  /** The same checks as @plat/health checks (counted the same way). */
  platChecks(): HealthCheck[];
  close(): Promise<void>;
}

const heapOk = () => {
  const used = process.memoryUsage().heapUsed / getHeapStatistics().heap_size_limit;
  if (used > 0.95) throw new Error('heap above 95%');
};
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function createCheckSet(mode: CheckMode): Promise<CheckSet> {
  if (mode.startsWith('http:')) {
    // What a user writes by hand: fetch the dependency's health URL, expect a 200.
    const url = mode.slice('http:'.length);
    const set: CheckSet = {
      runs: 0,
      async checkAll() {
        set.runs++;
        const response = await fetch(url);
        await response.body?.cancel();
        if (response.status !== 200) throw new Error(`dependency answered ${response.status}`);
      },
      platChecks: () => [httpCheck({ name: 'dependency', url })],
      async close() {},
    };
    return set;
  }
  if (mode === 'local') {
    const set: CheckSet = {
      runs: 0,
      async checkAll() {
        set.runs++;
        heapOk();
        await sleep(2);
      },
      platChecks: () => [
        {
          name: 'dependency',
          kind: 'dependency',
          run: async () => {
            set.runs++;
            await sleep(2);
          },
        },
        memoryCheck(),
      ],
      async close() {},
    };
    return set;
  }
  const pool = new pg.Pool({ connectionString: process.env.PLAT_TEST_PG_URL, max: 4 });
  const redis = createClient({
    url: process.env.PLAT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    // Fail fast when Redis is not there, so the benchmark reports the table as skipped.
    socket: { reconnectStrategy: false, connectTimeout: 5000 },
  });
  redis.on('error', () => {});
  await redis.connect();
  const set: CheckSet = {
    runs: 0,
    async checkAll() {
      set.runs++;
      heapOk();
      await Promise.all([pool.query('select 1'), redis.ping()]);
    },
    platChecks() {
      const db = postgresCheck(pool);
      const counted = db.run;
      return [
        {
          ...db,
          run: (context) => {
            set.runs++;
            return counted(context);
          },
        },
        redisCheck(redis),
        memoryCheck(),
      ];
    },
    async close() {
      await pool.end();
      redis.destroy();
    },
  };
  return set;
}

import { performance } from 'node:perf_hooks';
import { HealthError } from '../errors';
import type { CheckOptions, HealthCheck, Threshold } from '../types';
import { checkOptions, roundMs, statusAbove, validateThreshold } from './thresholds';

/**
 * A Kysely instance on any dialect (typed structurally, so kysely stays an optional peer).
 * Kysely's `selectNoFrom` is overloaded and generic; any function matches this shape.
 */
export interface KyselyLike {
  selectNoFrom: (...args: never[]) => unknown;
}

/** A `pg.Pool` or `pg.Client` (typed structurally, so pg stays an optional peer). */
export interface PgQueryable {
  query(config: { text: string; query_timeout?: number }): Promise<unknown>;
}

export interface PostgresCheckOptions extends CheckOptions {
  /** @default 'postgres' */
  name?: string;
  /** Thresholds on the `select 1` round trip in milliseconds (above is worse). @default none */
  latencyMs?: Threshold;
}

/** What `selectNoFrom` is called with: `select 1 as "ok"`, built from the instance alone. */
type SelectNoFrom = (select: (eb: { lit(value: number): { as(alias: string): unknown } }) => unknown) => {
  execute(): Promise<unknown>;
};

/**
 * Checks PostgreSQL with `select 1` through a Kysely instance (any dialect: SQLite works too) or a
 * pg pool, reporting the round trip as `postgres:responseTime` in ms. With a pg pool the query also
 * carries a client-side `query_timeout`, so a stuck connection is dropped rather than returned to the pool.
 *
 * @example
 * ```ts
 * health.addCheck(postgresCheck(db, { latencyMs: { warn: 50, fail: 500 } }));
 * ```
 */
export function postgresCheck(
  target: KyselyLike | PgQueryable,
  options: PostgresCheckOptions = {},
): HealthCheck {
  validateThreshold('latencyMs', options.latencyMs);
  const ping = pingFor(target);
  return {
    componentType: 'datastore',
    ...checkOptions(options),
    name: options.name ?? 'postgres',
    kind: 'dependency',
    measurement: 'responseTime',
    async run({ timeoutMs }) {
      const started = performance.now();
      await ping(timeoutMs);
      const ms = performance.now() - started;
      const status = statusAbove(ms, options.latencyMs);
      return {
        status,
        observedValue: roundMs(ms),
        observedUnit: 'ms',
        ...(status === 'pass' ? {} : { output: `select 1 took ${Math.round(ms)} ms` }),
      };
    },
  };
}

function pingFor(target: KyselyLike | PgQueryable): (timeoutMs: number) => Promise<unknown> {
  if (typeof (target as Partial<KyselyLike>).selectNoFrom === 'function') {
    const db = target as KyselyLike;
    const selectNoFrom = db.selectNoFrom.bind(db) as unknown as SelectNoFrom;
    return () => selectNoFrom((eb) => eb.lit(1).as('ok')).execute();
  }
  if (typeof (target as Partial<PgQueryable>).query === 'function') {
    const pool = target as PgQueryable;
    return (timeoutMs) => pool.query({ text: 'select 1', query_timeout: timeoutMs });
  }
  throw new HealthError('INVALID_OPTIONS', 'postgresCheck needs a Kysely instance or a pg Pool / Client');
}

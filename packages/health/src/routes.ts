/**
 * The three probes as framework-neutral routes, served by the adapters through the @plat/core
 * bridges, and the responder behind them (also used to answer on the raw server).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { PlatRoute } from '@plat/core';
import { HealthError } from './errors';
import type { Health } from './health';
import { HEALTH_CONTENT_TYPE, httpStatusOf, renderReport } from './report';
import type { DetailLevel, HealthReport, HealthRoutesOptions, ProbeName, ProbeRequest } from './types';

export const DEFAULT_PATHS = {
  liveness: '/health/live',
  readiness: '/health/ready',
  startup: '/health/startup',
} as const;

const LEVELS: ReadonlySet<DetailLevel> = new Set(['full', 'status', 'none']);
const PROBE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': HEALTH_CONTENT_TYPE,
  'cache-control': 'no-store',
});

/**
 * Rendered bodies per report and level: a cached report is serialised once, not per probe. Bytes
 * rather than strings, so no framework appends a charset to the content type or re-encodes it.
 */
const rendered = new WeakMap<HealthReport, Partial<Record<DetailLevel, Buffer>>>();

function bodyOf(report: HealthReport, level: DetailLevel): Buffer {
  let bodies = rendered.get(report);
  if (bodies === undefined) {
    bodies = {};
    rendered.set(report, bodies);
  }
  bodies[level] ??= Buffer.from(renderReport(report, level));
  return bodies[level];
}

/** A probe answer ready to send. */
export interface ProbeAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

/** The probe paths and how to answer each, from validated options. */
export interface ProbeResponder {
  readonly paths: Readonly<Record<ProbeName, string>>;
  respond(probe: ProbeName, request: ProbeRequest): Promise<ProbeAnswer>;
}

export function probeResponder(health: Health, options: HealthRoutesOptions = {}): ProbeResponder {
  const paths = { ...DEFAULT_PATHS, ...options.paths };
  for (const probe of ['liveness', 'readiness', 'startup'] as const) {
    const path = paths[probe];
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new HealthError('INVALID_OPTIONS', `paths.${probe} must start with '/'`);
    }
  }
  const details = options.details ?? 'status';
  if (typeof details !== 'function' && !LEVELS.has(details)) {
    throw new HealthError('INVALID_OPTIONS', "details must be 'full', 'status', 'none' or a function");
  }
  const levelFor =
    typeof details === 'function'
      ? (request: ProbeRequest): DetailLevel => {
          const level = details(request);
          // A function answering nonsense must not leak more than the least.
          return LEVELS.has(level) ? level : 'none';
        }
      : () => details;
  return {
    paths,
    async respond(probe, request) {
      const report = await health.probe(probe);
      return {
        status: httpStatusOf(report.status),
        headers: PROBE_HEADERS,
        body: bodyOf(report, levelFor(request)),
      };
    },
  };
}

/**
 * The liveness, readiness and startup probes as `PlatRoute`s (GET, and HEAD through the bridges).
 * Answers are `application/health+json` with `Cache-Control: no-store`, 200 for pass and warn, 503
 * for fail. Most users mount them with `healthProbes` from `@plat/health/express|fastify|koa`.
 *
 * @example
 * ```ts
 * app.use(expressRoutes(healthRoutes(health, { paths: { readiness: '/readyz' } })));
 * ```
 */
export function healthRoutes(health: Health, options: HealthRoutesOptions = {}): PlatRoute[] {
  const responder = probeResponder(health, options);
  return (['liveness', 'readiness', 'startup'] as const).map((probe) => ({
    method: 'GET',
    path: responder.paths[probe],
    handler: (exchange) => responder.respond(probe, exchange),
  }));
}

export interface TokenDetailsOptions {
  /** The request header carrying the token. `authorization` expects `Bearer <token>`. @default 'x-health-token' */
  header?: string;
  /** The level for callers without the token. @default 'status' */
  otherwise?: DetailLevel;
}

/**
 * A `details` function giving `full` answers to callers that present a token (your monitoring),
 * and `otherwise` to everyone else (the kubelet, the internet). Compared in constant time.
 *
 * @example
 * ```ts
 * healthProbes(health, { details: detailsForToken(process.env.HEALTH_TOKEN!, { otherwise: 'none' }) });
 * ```
 */
export function detailsForToken(
  token: string,
  options: TokenDetailsOptions = {},
): (request: ProbeRequest) => DetailLevel {
  if (typeof token !== 'string' || token.length < 16) {
    throw new HealthError('INVALID_OPTIONS', 'detailsForToken needs a token of at least 16 characters');
  }
  const header = (options.header ?? 'x-health-token').toLowerCase();
  const otherwise = options.otherwise ?? 'status';
  const expected = digest(token);
  return (request) => {
    let presented = request.header(header);
    if (presented === undefined) return otherwise;
    if (header === 'authorization') {
      if (!presented.startsWith('Bearer ')) return otherwise;
      presented = presented.slice(7);
    }
    // Digests have equal length, so timingSafeEqual never throws and length does not leak.
    return timingSafeEqual(digest(presented), expected) ? 'full' : otherwise;
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

import { CoreError } from './errors';
import type { PlatRoute } from './types';

/** A route matched against a request path. */
export interface RouteMatch {
  route: PlatRoute;
  /** The full template including the prefix, for logs and span names. */
  template: string;
  params: Record<string, string>;
}

interface CompiledRoute {
  route: PlatRoute;
  template: string;
  /** Literal segments are strings; parameters are `{ name }`. */
  segments: ReadonlyArray<string | { name: string }>;
}

/**
 * Matches request paths against Express-style templates (`/api-keys/:id`). Express and Koa have no
 * shared router we can rely on, so the bridges for those two use this; Fastify uses its own router.
 *
 * @example
 * ```ts
 * const table = new RouteTable(routes, '/admin');
 * table.match('GET', '/admin/keys/42'); // { template: '/admin/keys/:id', params: { id: '42' }, ... }
 * ```
 */
export class RouteTable {
  readonly #routes: CompiledRoute[];

  constructor(routes: readonly PlatRoute[], prefix = '') {
    this.#routes = routes.map((route) => {
      const template = joinPath(prefix, route.path);
      return { route, template, segments: splitPath(template).map(compileSegment) };
    });
  }

  /** The matching route, `undefined` when none matches. HEAD requests match GET routes. */
  match(method: string, path: string): RouteMatch | undefined {
    const parts = splitPath(path);
    for (const compiled of this.#routes) {
      const wanted = compiled.route.method;
      if (wanted !== method && !(method === 'HEAD' && wanted === 'GET')) continue;
      const params = matchSegments(compiled.segments, parts);
      if (params !== undefined) return { route: compiled.route, template: compiled.template, params };
    }
    return undefined;
  }
}

/** Joins a prefix and a path with exactly one slash between them and none at the end. */
export function joinPath(prefix: string, path: string): string {
  const joined = `/${[prefix, path]
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
  return joined;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part.length > 0);
}

function compileSegment(segment: string): string | { name: string } {
  return segment.startsWith(':') ? { name: segment.slice(1) } : segment;
}

function matchSegments(
  segments: ReadonlyArray<string | { name: string }>,
  parts: readonly string[],
): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const part = parts[i]!;
    if (typeof segment === 'string') {
      if (segment !== part) return undefined;
      continue;
    }
    try {
      params[segment.name] = decodeURIComponent(part);
    } catch (cause) {
      throw new CoreError('INVALID_PATH', `Path parameter "${segment.name}" is not valid percent-encoding`, {
        cause,
      });
    }
  }
  return params;
}

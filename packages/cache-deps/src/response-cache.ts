/**
 * Response caching for GET routes, written once against the @plat/core contract and mounted on
 * Express, Fastify and Koa by the adapters. A cached response is an ordinary cache entry, so it can
 * depend on data keys and disappears when they are invalidated.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createContextSlot, type HttpExchange, type PlatMiddleware } from '@plat/core';
import { CacheError } from './errors';
import { checkKeys } from './keys';
import type { Cache, ResponseCacheOptions } from './types';

interface StoredResponse {
  /** status */
  s: number;
  /** headers */
  h: Record<string, string>;
  /** body, base64 */
  b: string;
}

const DEFAULT_HEADERS = [
  'content-type',
  'content-language',
  'content-encoding',
  'etag',
  'last-modified',
  'cache-control',
  'vary',
  'link',
];

/** Dependencies a handler declares for the response it is building, per request. */
const declared = createContextSlot<Set<string>>('@plat/cache-deps.response-dependencies');

/**
 * Declares, from inside a handler, that the response being built depends on these keys: when one of
 * them is invalidated, the cached response goes too. Returns false outside a cached request.
 *
 * @example
 * ```ts
 * app.get('/workflows/:id', responseCache(cache), async (req, res) => {
 *   const workflow = await db.workflow(req.params.id);
 *   responseDependsOn(`user:${workflow.ownerId}`);
 *   res.json(workflow);
 * });
 * ```
 */
export function responseDependsOn(...keys: string[]): boolean {
  const set = declared.get();
  if (set === undefined) return false;
  for (const key of checkKeys(keys, 'responseDependsOn keys')) set.add(key);
  return true;
}

function wantsFresh(exchange: HttpExchange): { read: boolean; store: boolean } {
  const cacheControl = (exchange.header('cache-control') ?? '').toLowerCase();
  const noStore = /(?:^|,)\s*no-store\s*(?:,|$)/.test(cacheControl);
  const noCache =
    /(?:^|,)\s*no-cache\s*(?:,|$)/.test(cacheControl) ||
    (exchange.header('pragma') ?? '').toLowerCase() === 'no-cache';
  return { read: !noStore && !noCache, store: !noStore };
}

/** A response the handler marked as not for shared caches. */
function privateResponse(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /(?:^|,)\s*(?:no-store|private)\s*(?:,|=|$)/i.test(cacheControl);
}

function headerText(value: string | number | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/**
 * Watches what the handler writes to the raw response, whichever framework writes it: chunks,
 * the status and the headers (Fastify hands its headers to `writeHead` directly).
 */
function capture(
  res: ServerResponse,
  limit: number,
  done: (body: Buffer | undefined, headers: OutgoingHttpHeaders) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const headHeaders: OutgoingHttpHeaders = {};
  const keep = (chunk: unknown, encoding: unknown) => {
    if (overflow || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const buffer =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : chunk instanceof Uint8Array
          ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
          : undefined;
    if (buffer === undefined) return;
    size += buffer.byteLength;
    if (size > limit) {
      overflow = true;
      chunks.length = 0;
    } else chunks.push(Buffer.from(buffer));
  };
  const writeHead = res.writeHead;
  const write = res.write;
  const end = res.end;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const last = args[args.length - 1];
    if (typeof last === 'object' && last !== null && !Array.isArray(last)) {
      for (const [name, value] of Object.entries(last as OutgoingHttpHeaders))
        headHeaders[name.toLowerCase()] = value;
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    keep(args[0], args[1]);
    const result = (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    done(overflow ? undefined : Buffer.concat(chunks), { ...this.getHeaders(), ...headHeaders });
    return result;
  } as ServerResponse['end'];
}

/**
 * The response cache as a framework-neutral middleware: answers GET requests from the cache with
 * `x-cache: hit`, or lets them through with `x-cache: miss` and stores what the handler sends.
 * A client's `Cache-Control: no-cache` skips the read (the fresh response is stored); `no-store`
 * skips both. Mount it with `responseCache` from `@plat/cache-deps/express|fastify|koa`.
 *
 * @example
 * ```ts
 * const middleware = createResponseCache(cache, { dependsOn: (ex) => [`workflow:${ex.params.id}`] });
 * ```
 */
export function createResponseCache(cache: Cache, options: ResponseCacheOptions = {}): PlatMiddleware {
  if (typeof cache?.get !== 'function' || typeof cache.set !== 'function') {
    throw new CacheError('INVALID_OPTIONS', 'createResponseCache needs a cache from createCache');
  }
  const {
    key = (exchange: HttpExchange) => `http:${exchange.url}`,
    dependsOn,
    ttl,
    statuses = [200],
    maxBodyBytes = 1_048_576,
    headers = DEFAULT_HEADERS,
    onError,
  } = options;
  if (typeof key !== 'function') throw new CacheError('INVALID_OPTIONS', 'key must be a function');
  if (dependsOn !== undefined && typeof dependsOn !== 'function') {
    throw new CacheError('INVALID_OPTIONS', 'dependsOn must be a function of the request');
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new CacheError('INVALID_OPTIONS', 'maxBodyBytes must be a positive integer');
  }
  const cacheable = new Set(statuses);
  const kept = headers.map((name) => name.toLowerCase()).filter((name) => name !== 'set-cookie');
  const report = (error: unknown) => {
    try {
      onError?.(error);
    } catch {
      // An error hook that throws must not break the response that was already sent.
    }
  };

  return async (exchange) => {
    if (exchange.method !== 'GET') return undefined;
    const cacheKey = key(exchange);
    if (cacheKey === undefined) return undefined;
    const fresh = wantsFresh(exchange);
    if (fresh.read) {
      // A cache that cannot be read must not take the route down: serve it uncached.
      const stored = await cache.get<StoredResponse>(cacheKey).catch((error: unknown) => {
        report(error);
        return undefined;
      });
      if (stored !== undefined && typeof stored === 'object' && typeof stored.b === 'string') {
        return {
          status: stored.s,
          headers: { ...stored.h, 'x-cache': 'hit' },
          body: Buffer.from(stored.b, 'base64'),
        };
      }
    }
    exchange.setHeader('x-cache', 'miss');
    if (!fresh.store) return undefined;
    const fromRequest = dependsOn === undefined ? [] : [...dependsOn(exchange)];
    const fromHandler = new Set<string>();
    declared.set(fromHandler);
    capture(exchange.res, maxBodyBytes, (body, sent) => {
      const status = exchange.res.statusCode;
      if (body === undefined || !cacheable.has(status) || sent['set-cookie'] !== undefined) return;
      if (privateResponse(headerText(sent['cache-control']))) return;
      const replay: Record<string, string> = {};
      for (const name of kept) {
        const value = headerText(sent[name]);
        if (value !== undefined) replay[name] = value;
      }
      const response: StoredResponse = { s: status, h: replay, b: body.toString('base64') };
      cache
        .set(cacheKey, response, {
          dependsOn: [...new Set([...fromRequest, ...fromHandler])],
          ...(ttl === undefined ? {} : { ttl }),
        })
        .catch(report);
    });
    return undefined;
  };
}

import { performance } from 'node:perf_hooks';
import { describeError } from '../describe-error';
import { HealthError } from '../errors';
import type { CheckOptions, HealthCheck, Threshold } from '../types';
import { checkOptions, roundMs, statusAbove, validateThreshold } from './thresholds';

export interface HttpCheckOptions extends CheckOptions {
  /** The URL to call, for example a vector database's `http://milvus:9091/healthz`. */
  url: string | URL;
  /** @default the URL's host name */
  name?: string;
  /** @default 'GET' */
  method?: string;
  /** Request headers (for example an authorization header; never reported). */
  headers?: Record<string, string>;
  /**
   * Statuses that count as healthy: one status, a list, or a predicate. Redirects are not followed,
   * so a 3xx is judged as it is. @default any 2xx
   */
  expectedStatus?: number | readonly number[] | ((status: number) => boolean);
  /** Thresholds on the response time in milliseconds (above is worse). @default none */
  latencyMs?: Threshold;
}

/**
 * Checks an HTTP dependency (a vector database's `/healthz`, another service's readiness, any URL)
 * with `fetch`, reporting `<name>:responseTime` in ms. The call is aborted at the check's timeout.
 * Credentials and the query string never appear in answers or logs: the component id is the
 * URL's origin and path.
 *
 * @example
 * ```ts
 * health.addCheck(httpCheck({ name: 'milvus', url: 'http://milvus:9091/healthz' }));
 * ```
 */
export function httpCheck(options: HttpCheckOptions): HealthCheck {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (cause) {
    throw new HealthError('INVALID_OPTIONS', 'httpCheck: url is not a valid absolute URL', { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HealthError('INVALID_OPTIONS', 'httpCheck: url must be http: or https:');
  }
  validateThreshold('latencyMs', options.latencyMs);
  const method = (options.method ?? 'GET').toUpperCase();
  const accepts = acceptor(options.expectedStatus);
  const safeUrl = `${url.origin}${url.pathname}`;
  const headers = new Headers(options.headers);
  if (url.username !== '' || url.password !== '') {
    // fetch refuses URLs with credentials (and names them in its error): send them as Basic auth.
    if (!headers.has('authorization')) {
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      headers.set('authorization', `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
    }
    url.username = '';
    url.password = '';
  }
  const secrets = [url.href, url.search].filter((part) => part.length > 1);
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join(safeUrl), text);
  const name = options.name ?? url.hostname.replace(/[^\w.-]/g, '_');
  return {
    componentType: 'component',
    ...checkOptions(options),
    name,
    kind: 'dependency',
    measurement: 'responseTime',
    async run({ signal }) {
      const started = performance.now();
      let response: Response;
      try {
        response = await fetch(url, { method, redirect: 'manual', signal, headers });
      } catch (error) {
        // fetch's own messages may include the full URL with its query string; report the safe one.
        throw new Error(`${method} ${safeUrl} failed: ${scrub(describeError(error))}`);
      }
      // The body is not needed; cancelling it frees the connection for the pool.
      await response.body?.cancel().catch(() => {});
      const ms = performance.now() - started;
      const base = { componentId: safeUrl, observedValue: roundMs(ms), observedUnit: 'ms' };
      if (!accepts(response.status)) {
        return { ...base, status: 'fail', output: `${method} ${safeUrl} answered ${response.status}` };
      }
      const status = statusAbove(ms, options.latencyMs);
      return status === 'pass'
        ? { ...base, status }
        : { ...base, status, output: `${method} ${safeUrl} took ${Math.round(ms)} ms` };
    },
  };
}

function acceptor(expected: HttpCheckOptions['expectedStatus']): (status: number) => boolean {
  if (expected === undefined) return (status) => status >= 200 && status < 300;
  if (typeof expected === 'function') return expected;
  if (typeof expected === 'number') return (status) => status === expected;
  const set = new Set(expected);
  return (status) => set.has(status);
}

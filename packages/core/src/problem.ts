/**
 * RFC 9457 problem details: how every @plat adapter answers an error.
 */
import { coreErrorStatus, isPlatError, type PlatError } from './errors';

/** The body of an `application/problem+json` answer (RFC 9457), with our `code` extension member. */
export interface ProblemDetails {
  /** A URI naming the problem type: `urn:plat:problem:<code>` for @plat errors, `about:blank` otherwise. */
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** The error code from the package's code table (for example `INSUFFICIENT_SCOPE`). */
  code?: string;
  [extension: string]: unknown;
}

/** Maps a @plat error to an HTTP status; return undefined to fall back to the default. */
export type StatusResolver = (error: PlatError) => number | undefined;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS_TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A problem answer: status, headers (content type, and `Retry-After` when the error carries one) and body. */
export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: ProblemDetails;
}

/**
 * Builds a status resolver from a package's code → status table.
 *
 * @example
 * ```ts
 * const statusOf = statusTable({ NOT_FOUND: 404, REVOKED: 401 });
 * ```
 */
export function statusTable(table: Readonly<Record<string, number>>): StatusResolver {
  return (error) => table[error.code];
}

/**
 * Turns any thrown value into an RFC 9457 answer. @plat errors keep their code, message and
 * details; anything else becomes a bare 500 so internal messages never reach a caller.
 *
 * @example
 * ```ts
 * const { status, headers, body } = toProblem(err, statusTable({ NOT_FOUND: 404 }), req.url);
 * ```
 */
export function toProblem(error: unknown, statusOf?: StatusResolver, instance?: string): ProblemResponse {
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'cache-control': 'no-store',
  };
  if (!isPlatError(error)) {
    const body: ProblemDetails = { type: 'about:blank', title: STATUS_TITLES[500]!, status: 500 };
    if (instance !== undefined) body.instance = instance;
    return { status: 500, headers, body };
  }
  const status = statusOf?.(error) ?? (coreErrorStatus as Record<string, number>)[error.code] ?? 500;
  // A 500 from a @plat package is still an internal failure: its message and details stay in the logs.
  // 503 (overload, dependency down) is the exception: callers need its reason and retry hint.
  const exposed = status < 500 || status === 503;
  const body: ProblemDetails = {
    type: `urn:plat:problem:${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: STATUS_TITLES[status] ?? error.name,
    status,
    code: error.code,
  };
  if (exposed) body.detail = error.message;
  if (instance !== undefined) body.instance = instance;
  if (exposed && error.details !== undefined) {
    for (const [key, value] of Object.entries(error.details)) if (!(key in body)) body[key] = value;
  }
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) {
    headers['retry-after'] = String(Math.max(0, Math.ceil(retryAfter)));
  }
  return { status, headers, body };
}

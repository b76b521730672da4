/**
 * The record of one line in each output format, built in one pass: the format's own fields first
 * (time, level, message, request context, trace ids, request and error fields), then the caller's.
 */
import type { RequestContext } from '@plat/core';
import { GCP_SEVERITY } from './levels';
import { renderPretty } from './pretty';
import type { SpanIds } from './trace-ids';
import { traceFlagsHex } from './trace-ids';
import type { HttpLine, LogFormat, LogLevel } from './types';

/** winston's symbols (triple-beam): the level a transport filters on, and the finished line. */
export const LEVEL = Symbol.for('level');
export const MESSAGE = Symbol.for('message');

export type Info = Record<string, unknown> & { [LEVEL]?: string; [MESSAGE]?: string };

let lastMs = -1;
let lastIso = '';
/** `new Date().toISOString()`, computed once per millisecond. */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** Everything about a line except the caller's fields. */
export interface LineHead {
  level: LogLevel;
  message: string;
  context: RequestContext | undefined;
  span: SpanIds | undefined;
  /** The error given as the line's argument, already serialised. */
  error: Record<string, unknown> | undefined;
  http: HttpLine | undefined;
}

/** How one format names things. */
export interface Shape {
  /** Keys the format writes itself; a caller's field of the same name is kept as `fields.<key>`. */
  readonly reserved: ReadonlySet<string>;
  /** A new info object holding the format's own fields. */
  head(line: LineHead): Info;
  /** The finished text of a line (without the newline). */
  render(info: Info): string;
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

const json = (info: Info): string => JSON.stringify(info);

/** Keeps `level` readable by winston formats without writing it to formats that name it otherwise. */
function hiddenLevel(info: Info, level: LogLevel): void {
  Object.defineProperty(info, 'level', {
    value: level,
    enumerable: false,
    writable: true,
    configurable: true,
  });
}

const jsonShape: Shape = {
  reserved: new Set([
    'timestamp',
    'level',
    'message',
    'request_id',
    'principal_id',
    'tenant_id',
    'trace_id',
    'span_id',
    'trace_flags',
    'http',
    'error',
  ]),
  head({ level, message, context, span, error, http }) {
    const info: Info = { timestamp: isoNow(), level, message, [LEVEL]: level };
    if (context !== undefined) {
      info.request_id = context.requestId;
      if (context.principal !== undefined) info.principal_id = context.principal.id;
      if (context.tenantId !== undefined) info.tenant_id = context.tenantId;
    }
    if (span !== undefined) {
      info.trace_id = span.traceId;
      info.span_id = span.spanId;
      info.trace_flags = traceFlagsHex(span.traceFlags);
    }
    if (http !== undefined) {
      info.http = {
        method: http.method,
        route: http.route,
        path: http.path,
        status: http.status,
        duration_ms: roundMs(http.durationMs),
        bytes: http.bytes,
        user_agent: http.userAgent,
        remote_address: http.remoteAddress,
        protocol: http.protocol,
        ...(http.aborted ? { aborted: true } : {}),
      };
    }
    if (error !== undefined) info.error = error;
    return info;
  },
  render: json,
};

const GCP_ERROR_EVENT = 'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent';

function gcpShape(projectId: string | undefined): Shape {
  return {
    reserved: new Set([
      'level',
      'severity',
      'message',
      'time',
      'logging.googleapis.com/trace',
      'logging.googleapis.com/spanId',
      'logging.googleapis.com/trace_sampled',
      'trace_id',
      'request_id',
      'principal_id',
      'tenant_id',
      'httpRequest',
      'route',
      'aborted',
      'error',
      'stack_trace',
      '@type',
    ]),
    head({ level, message, context, span, error, http }) {
      const info: Info = {
        severity: GCP_SEVERITY[level] ?? 'DEFAULT',
        message,
        time: isoNow(),
        [LEVEL]: level,
      };
      hiddenLevel(info, level);
      if (span !== undefined) {
        // Without a project id the trace field would not resolve; the bare id still lets you search.
        if (projectId !== undefined)
          info['logging.googleapis.com/trace'] = `projects/${projectId}/traces/${span.traceId}`;
        else info.trace_id = span.traceId;
        info['logging.googleapis.com/spanId'] = span.spanId;
        info['logging.googleapis.com/trace_sampled'] = (span.traceFlags & 1) === 1;
      }
      if (context !== undefined) {
        info.request_id = context.requestId;
        if (context.principal !== undefined) info.principal_id = context.principal.id;
        if (context.tenantId !== undefined) info.tenant_id = context.tenantId;
      }
      if (http !== undefined) {
        info.httpRequest = {
          requestMethod: http.method,
          requestUrl: http.path,
          status: http.status,
          responseSize: http.bytes === undefined ? undefined : String(http.bytes),
          userAgent: http.userAgent,
          remoteIp: http.remoteAddress,
          latency: `${(http.durationMs / 1000).toFixed(9).replace(/\.?0+$/, '')}s`,
          protocol: http.protocol,
        };
        if (http.route !== undefined) info.route = http.route;
        if (http.aborted) info.aborted = true;
      }
      if (error !== undefined) {
        info.error = error;
        // Error Reporting reads the stack from `stack_trace`; the type marks the line as an error event.
        if (typeof error.stack === 'string') info.stack_trace = error.stack;
        if (level === 'error' || level === 'fatal') info['@type'] = GCP_ERROR_EVENT;
      }
      return info;
    },
    render: json,
  };
}

/** The ECS version whose field names the `ecs` format writes. */
export const ECS_VERSION = '8.11.0';

const ecsShape: Shape = {
  reserved: new Set([
    'level',
    '@timestamp',
    'log.level',
    'message',
    'ecs.version',
    'trace',
    'span',
    'http',
    'url',
    'user_agent',
    'client',
    'event',
    'user',
    'organization',
    'error',
  ]),
  head({ level, message, context, span, error, http }) {
    const info: Info = {
      '@timestamp': isoNow(),
      'log.level': level,
      message,
      'ecs.version': ECS_VERSION,
      [LEVEL]: level,
    };
    hiddenLevel(info, level);
    if (span !== undefined) {
      info.trace = { id: span.traceId };
      info.span = { id: span.spanId };
    }
    if (http !== undefined) {
      info.http = {
        request: { id: context?.requestId, method: http.method },
        response: {
          status_code: http.status,
          body: http.bytes === undefined ? undefined : { bytes: http.bytes },
        },
        route: http.route,
        version: http.protocol?.replace(/^HTTP\//, ''),
      };
      info.url = { path: http.path };
      if (http.userAgent !== undefined) info.user_agent = { original: http.userAgent };
      if (http.remoteAddress !== undefined) info.client = { address: http.remoteAddress };
      info.event = {
        duration: Math.round(http.durationMs * 1e6),
        ...(http.aborted ? { outcome: 'failure', reason: 'client aborted' } : {}),
      };
    } else if (context !== undefined) {
      info.http = { request: { id: context.requestId } };
    }
    if (context?.principal !== undefined) info.user = { id: context.principal.id };
    if (context?.tenantId !== undefined) info.organization = { id: context.tenantId };
    if (error !== undefined) {
      const { name, message: errorMessage, stack, ...rest } = error;
      info.error = { type: name, message: errorMessage, stack_trace: stack, ...rest };
    }
    return info;
  },
  render: json,
};

function prettyShape(colors: boolean): Shape {
  return { reserved: jsonShape.reserved, head: jsonShape.head, render: (info) => renderPretty(info, colors) };
}

/** The shape of a format. */
export function shapeOf(
  format: LogFormat,
  options: { gcpProjectId: string | undefined; colors: boolean },
): Shape {
  switch (format) {
    case 'gcp':
      return gcpShape(options.gcpProjectId);
    case 'ecs':
      return ecsShape;
    case 'pretty':
      return prettyShape(options.colors);
    default:
      return jsonShape;
  }
}

/** The message of a request line: `GET /items/:id 200 3.2 ms`. */
export function requestMessage(http: HttpLine): string {
  const outcome = http.aborted ? `aborted (${http.status})` : String(http.status);
  return `${http.method} ${http.route ?? http.path} ${outcome} ${http.durationMs.toFixed(1)} ms`;
}

import type { IncomingMessage } from 'node:http';
import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { FinishedResponse, HttpExchange, PlatMiddleware } from '@plat/core';
import { TracingError } from './errors';
import { ATTR, KNOWN_HTTP_METHODS } from './semconv';
import { formatTraceparent } from './trace-ids';
import { asException, errorMessage, errorType, tracerFrom } from './tracer';
import type { RequestTracingOptions } from './types';

/** The recording server span of a request and the error an adapter saw, kept on the raw request. */
const SERVER_SPAN = Symbol.for('@plat/tracing.serverSpan');
const REQUEST_ERROR = Symbol.for('@plat/tracing.requestError');
const ROUTE_AT_ERROR = Symbol.for('@plat/tracing.routeAtError');
type TracedRequest = IncomingMessage & {
  [SERVER_SPAN]?: Span;
  [REQUEST_ERROR]?: unknown;
  [ROUTE_AT_ERROR]?: string;
};

/** Headers that carry credentials; recording them on spans would put secrets into the tracing backend. */
const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-csrf-token',
]);

const SERVER_SPAN_OPTIONS: SpanOptions = { kind: SpanKind.SERVER };

function headerList(name: string, headers: readonly string[] | undefined): string[] {
  if (headers === undefined) return [];
  return headers.map((header) => {
    const lower = String(header).toLowerCase().trim();
    if (lower === '' || SECRET_HEADERS.has(lower)) {
      throw new TracingError(
        'INVALID_OPTIONS',
        `${name} may not include "${header}": credential headers are never recorded on spans`,
      );
    }
    return lower;
  });
}

function hostAndPort(host: string | undefined): [string, number | undefined] | undefined {
  if (host === undefined || host === '') return undefined;
  // `[::1]:8080`, `example.com:8080`, `example.com`
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  const unbracket = (name: string) => (name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name);
  if (colon > close && colon !== -1) {
    const port = Number(host.slice(colon + 1));
    return [unbracket(host.slice(0, colon)), Number.isInteger(port) ? port : undefined];
  }
  return [unbracket(host), undefined];
}

function requestAttributes(exchange: HttpExchange, method: string, captureQuery: boolean): Attributes {
  const req = exchange.req;
  const known = KNOWN_HTTP_METHODS.has(method);
  const attributes: Attributes = {
    [ATTR.HTTP_REQUEST_METHOD]: known ? method : '_OTHER',
    [ATTR.URL_PATH]: exchange.path,
    [ATTR.URL_SCHEME]:
      (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true ? 'https' : 'http',
    [ATTR.NETWORK_PROTOCOL_VERSION]: req.httpVersion,
  };
  if (!known) attributes[ATTR.HTTP_REQUEST_METHOD_ORIGINAL] = method;
  const server = hostAndPort(req.headers.host);
  if (server !== undefined) {
    attributes[ATTR.SERVER_ADDRESS] = server[0];
    if (server[1] !== undefined) attributes[ATTR.SERVER_PORT] = server[1];
  }
  const client = exchange.remoteAddress;
  if (client !== undefined) attributes[ATTR.CLIENT_ADDRESS] = client;
  const userAgent = req.headers['user-agent'];
  if (userAgent !== undefined) attributes[ATTR.USER_AGENT_ORIGINAL] = userAgent;
  if (captureQuery) {
    const url = exchange.url;
    const q = url.indexOf('?');
    if (q !== -1 && q < url.length - 1) attributes[ATTR.URL_QUERY] = url.slice(q + 1);
  }
  return attributes;
}

function headerValue(value: string | number | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/**
 * The framework-neutral inbound tracing middleware behind `traceRequests` in each adapter: one
 * SERVER span per request, continuing an incoming `traceparent`, named by route template
 * (`GET /workflows/:id`), with the stable HTTP attributes and the final status. The rest of the
 * request runs inside the span, so database, Redis and outgoing calls become its children.
 *
 * Requests the sampler drops cost one id generation and one context switch: no attributes are
 * computed and nothing waits for the response.
 *
 * @example
 * ```ts
 * import { expressMiddleware } from '@plat/core/express';
 * app.use(expressMiddleware(createRequestTracing({ responseHeader: 'traceresponse' })));
 * ```
 */
export function createRequestTracing(options: RequestTracingOptions = {}): PlatMiddleware {
  const { skip, responseHeader = false, onRequest, onResponse, captureQuery = false } = options;
  if (responseHeader !== false && responseHeader !== 'traceresponse' && responseHeader !== 'x-trace-id') {
    throw new TracingError(
      'INVALID_OPTIONS',
      `responseHeader must be false, "traceresponse" or "x-trace-id" (got "${String(responseHeader)}")`,
    );
  }
  const requestHeaders = headerList('requestHeaders', options.requestHeaders);
  const responseHeaders = headerList('responseHeaders', options.responseHeaders);
  const getTracer = tracerFrom(options.tracerProvider);

  const finish = (span: Span, exchange: HttpExchange, method: string, response: FinishedResponse): void => {
    // `method` here is the span-name form: the method, or `HTTP` for methods outside the conventions.
    const req = exchange.req as TracedRequest;
    const route = req[ROUTE_AT_ERROR] ?? exchange.route();
    if (route !== undefined) {
      span.updateName(`${method} ${route}`);
      span.setAttribute(ATTR.HTTP_ROUTE, route);
    }
    const status = response.status;
    span.setAttribute(ATTR.HTTP_RESPONSE_STATUS_CODE, status);
    for (const name of responseHeaders) {
      const value = headerValue(exchange.res.getHeader(name));
      if (value !== undefined) span.setAttribute(`http.response.header.${name}`, value);
    }
    if (status >= 500) {
      // Server spans fail on 5xx only (a 4xx is the client's error); the exception seen, if any, names it.
      const error = req[REQUEST_ERROR];
      if (error === undefined) {
        span.setAttribute(ATTR.ERROR_TYPE, String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      } else {
        span.setAttribute(ATTR.ERROR_TYPE, errorType(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
      }
    } else if (response.aborted) {
      span.setAttribute(ATTR.ERROR_TYPE, 'aborted');
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: 'client closed the connection before the response',
      });
    }
    if (onResponse !== undefined) {
      try {
        onResponse(span, exchange, response);
      } catch {
        // A user hook must not keep the span from ending.
      }
    }
    span.end();
  };

  return (exchange, next) => {
    if (skip?.(exchange) === true) return undefined;
    const parent = propagation.extract(ROOT_CONTEXT, exchange.req.headers);
    const method = exchange.method;
    // Span names must stay low-cardinality: unknown methods are named `HTTP`, as the conventions say.
    const nameMethod = KNOWN_HTTP_METHODS.has(method) ? method : 'HTTP';
    const span = getTracer().startSpan(nameMethod, SERVER_SPAN_OPTIONS, parent);
    if (responseHeader !== false) {
      const spanContext = span.spanContext();
      exchange.setHeader(
        responseHeader,
        responseHeader === 'traceresponse' ? formatTraceparent(spanContext) : spanContext.traceId,
      );
    }
    if (span.isRecording()) {
      // Fastify routes before its first hook, so the name is final already there.
      const route = exchange.route();
      if (route !== undefined) span.updateName(`${nameMethod} ${route}`);
      span.setAttributes(requestAttributes(exchange, method, captureQuery));
      for (const name of requestHeaders) {
        const value = headerValue(exchange.req.headers[name]);
        if (value !== undefined) span.setAttribute(`http.request.header.${name}`, value);
      }
      if (onRequest !== undefined) {
        try {
          onRequest(span, exchange);
        } catch {
          // A user hook must not break the request.
        }
      }
      (exchange.req as TracedRequest)[SERVER_SPAN] = span;
      exchange.onFinish((response) => finish(span, exchange, nameMethod, response));
    }
    context.with(trace.setSpan(parent, span), next);
    return undefined;
  };
}

/**
 * Records an error thrown while handling a request as an exception event on that request's server
 * span (the adapters call this from their error hooks). The span ends with the response: it is
 * marked failed, with the error's type, when the response is a 5xx.
 *
 * @example
 * ```ts
 * app.use((err, req, res, next) => { recordRequestError(req, err); next(err); });
 * ```
 */
export function recordRequestError(req: IncomingMessage, error: unknown, route?: string): void {
  const traced = req as TracedRequest;
  const span = traced[SERVER_SPAN];
  if (span === undefined || traced[REQUEST_ERROR] !== undefined) return;
  traced[REQUEST_ERROR] = error;
  // Express forgets the matched route's mount path once an error leaves the router; the adapter
  // passes the route as it stood when the error was seen.
  if (route !== undefined) traced[ROUTE_AT_ERROR] = route;
  span.recordException(asException(error));
}

/**
 * One line per request, written when the response is done, with the request's context and the
 * span that was active when the request reached this middleware (the server span when tracing
 * runs first).
 */
import { performance } from 'node:perf_hooks';
import type { FinishedResponse, HttpExchange, PlatMiddleware } from '@plat/core';
import { LoggingError } from './errors';
import { isPlatLogger, WRITE_WITH } from './logger';
import { requestMessage } from './shapes';
import { activeSpanIds } from './trace-ids';
import type { HttpLine, LogLevel, RequestLoggingOptions } from './types';

/** 5xx: error; 4xx and requests the client abandoned: warn; everything else: info. */
export function levelForStatus(status: number, response?: FinishedResponse): LogLevel {
  if (status >= 500) return 'error';
  if (status >= 400 || response?.aborted === true) return 'warn';
  return 'info';
}

function httpLine(exchange: HttpExchange, response: FinishedResponse): HttpLine {
  const version = exchange.req.httpVersion;
  return {
    method: exchange.method,
    route: exchange.route(),
    path: exchange.path,
    status: response.status,
    durationMs: performance.now() - exchange.context.startTime,
    bytes: response.bytes,
    userAgent: exchange.header('user-agent'),
    remoteAddress: exchange.remoteAddress,
    protocol: typeof version === 'string' ? `HTTP/${version}` : undefined,
    aborted: response.aborted,
  };
}

/**
 * The framework-neutral request logging middleware behind the adapters' `requestLogging`.
 *
 * @example
 * ```ts
 * app.use(expressMiddleware(requestLogger({ logger, skip: (ex) => ex.path === '/healthz' })));
 * ```
 */
export function requestLogger(options: RequestLoggingOptions): PlatMiddleware {
  const { logger, skip, level = levelForStatus, requestIdHeader = 'x-request-id', fields } = options;
  if (typeof logger?.info !== 'function')
    throw new LoggingError(
      'INVALID_OPTIONS',
      'requestLogging: `logger` must be a logger from createLogger()',
    );
  if (requestIdHeader !== false && (typeof requestIdHeader !== 'string' || requestIdHeader.length === 0))
    throw new LoggingError(
      'INVALID_OPTIONS',
      'requestLogging: `requestIdHeader` must be a header name or false',
    );
  return (exchange) => {
    // Echoed before the handler runs, so it is there on every answer, errors included.
    if (requestIdHeader !== false) exchange.setHeader(requestIdHeader, exchange.context.requestId);
    const span = activeSpanIds();
    exchange.onFinish((response) => {
      if (skip?.(exchange, response)) return;
      const http = httpLine(exchange, response);
      const lineLevel = level(http.status, response);
      // What inner middlewares recorded about this request (db-perf's query summary, say).
      const annotations = exchange.context.annotations;
      const own = fields?.(exchange);
      const extra = Object.keys(annotations).length > 0 ? { ...annotations, ...own } : own;
      if (isPlatLogger(logger)) {
        logger[WRITE_WITH](lineLevel, requestMessage(http), extra, { context: exchange.context, span }, http);
      } else {
        logger.log(lineLevel, requestMessage(http), { ...extra, http });
      }
    });
    return undefined;
  };
}

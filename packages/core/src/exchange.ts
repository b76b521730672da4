import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonBody } from './body';
import { createRequestContext, resolveRequestId } from './context';
import type { FinishedResponse, FrameworkName, HttpExchange, RequestContext } from './types';

/** One exchange per request, shared by every @plat middleware on it (so they share one context). */
const EXCHANGE = Symbol.for('@plat/core.exchange');
type RequestWithExchange = IncomingMessage & { [EXCHANGE]?: HttpExchange };

/**
 * The parts of an exchange that read the raw Node.js request and response; each framework bridge
 * subclasses it for what the framework parses (query, params, body, route).
 */
export abstract class NodeExchange implements HttpExchange {
  abstract readonly framework: FrameworkName;
  abstract readonly method: string;
  abstract readonly path: string;
  abstract readonly url: string;
  abstract readonly query: Readonly<Record<string, unknown>>;
  abstract readonly params: Readonly<Record<string, string>>;
  abstract route(): string | undefined;
  /** The framework's parsed body; undefined means "no parser ran". */
  protected abstract parsedBody(): unknown;

  readonly context: RequestContext;
  /** Set by the route bridges when one of our own routes matched. */
  matchedRoute: string | undefined;
  matchedParams: Record<string, string> | undefined;
  #finishListeners: Array<(response: FinishedResponse) => void> | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    this.context = createRequestContext({
      requestId: resolveRequestId(req.headers['x-request-id']),
      ...(req.method === undefined ? {} : { method: req.method }),
    });
  }

  get remoteAddress(): string | undefined {
    return this.req.socket?.remoteAddress;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  async readBody(): Promise<unknown> {
    const parsed = this.parsedBody();
    return parsed === undefined ? readJsonBody(this.req) : parsed;
  }

  setHeader(name: string, value: string): void {
    if (!this.res.headersSent) this.res.setHeader(name, value);
  }

  status(): number {
    return this.res.statusCode;
  }

  onFinish(listener: (response: FinishedResponse) => void): void {
    if (this.#finishListeners === undefined) {
      const listeners: Array<(response: FinishedResponse) => void> = [];
      this.#finishListeners = listeners;
      // 'close' fires both after a complete response and after an abort; one listener serves all.
      this.res.once('close', () => {
        const length = Number(this.res.getHeader('content-length') ?? writtenContentLength(this.res));
        const finished: FinishedResponse = {
          status: this.res.statusCode,
          bytes: Number.isFinite(length) ? length : undefined,
          aborted: !this.res.writableFinished,
        };
        // Last registered first, like middleware unwinding: inner middlewares (db-perf, apikeys)
        // record what they did before an outer one (the request logger) writes its line.
        for (let i = listeners.length - 1; i >= 0; i--) {
          const fn = listeners[i]!;
          try {
            fn(finished);
          } catch {
            // A failing listener (a log transport, say) must not break the others or the process.
          }
        }
      });
    }
    this.#finishListeners.push(listener);
  }
}

const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

/**
 * Content-Length from the header block Node already wrote. Frameworks that pass headers straight
 * to `writeHead` (Fastify does) leave `getHeader` empty; Node keeps the block it sent in `_header`.
 */
function writtenContentLength(res: ServerResponse): string | undefined {
  const written = (res as { _header?: unknown })._header;
  return typeof written === 'string' ? CONTENT_LENGTH.exec(written)?.[1] : undefined;
}

/**
 * The exchange already attached to this request, or a new one from `create` (which opens the
 * request context). Bridges call this so every @plat middleware on a request sees one context.
 */
export function exchangeFor<E extends HttpExchange>(req: IncomingMessage, create: () => E): E {
  const holder = req as RequestWithExchange;
  const existing = holder[EXCHANGE];
  if (existing !== undefined) return existing as E;
  const created = create();
  holder[EXCHANGE] = created;
  return created;
}

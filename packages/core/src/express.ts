/**
 * Express bridge (`@plat/core/express`): turns framework-neutral middleware and routes into
 * Express handlers. Works with Express 4 and 5; imports Express types only.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { encodeReply, pathOf, problemReply, runMiddleware, runRoute } from './bridge';
import { isPlatError } from './errors';
import { exchangeFor, NodeExchange } from './exchange';
import type { StatusResolver } from './problem';
import { RouteTable } from './route-table';
import type { BridgeOptions, HttpReply, PlatMiddleware, PlatRoute, RoutesOptions } from './types';

class ExpressExchange extends NodeExchange {
  readonly framework = 'express';
  constructor(
    private readonly request: Request,
    response: Response,
  ) {
    super(request, response);
  }
  get method(): string {
    return this.request.method;
  }
  get url(): string {
    return this.request.originalUrl;
  }
  get path(): string {
    return pathOf(this.request.originalUrl);
  }
  get query(): Readonly<Record<string, unknown>> {
    return this.request.query as Record<string, unknown>;
  }
  get params(): Readonly<Record<string, string>> {
    return this.matchedParams ?? (this.request.params as Record<string, string>) ?? {};
  }
  route(): string | undefined {
    if (this.matchedRoute !== undefined) return this.matchedRoute;
    const path: unknown = this.request.route?.path;
    // Express unsets baseUrl once an error leaves the router that set it.
    return typeof path === 'string' ? `${this.request.baseUrl ?? ''}${path}` : undefined;
  }
  protected parsedBody(): unknown {
    return this.request.body;
  }
}

/** The shared exchange for an Express request (opens the request context on first use). */
export function expressExchange(req: Request, res: Response): NodeExchange {
  return exchangeFor(req, () => new ExpressExchange(req, res));
}

function send(res: Response, reply: HttpReply): void {
  if (res.headersSent) return;
  const { status, headers, payload } = encodeReply(reply);
  res.status(status);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(payload);
}

/**
 * Wraps a framework-neutral middleware as an Express middleware (app-wide or per route).
 *
 * @example
 * ```ts
 * app.use(expressMiddleware(async (ex) => (ex.header('x-block') ? { status: 403 } : undefined)));
 * ```
 */
export function expressMiddleware(middleware: PlatMiddleware, options: BridgeOptions = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    runMiddleware(
      middleware,
      expressExchange(req, res),
      { proceed: () => next(), reply: (reply) => send(res, reply), fail: (error) => next(error) },
      options.statusOf,
    );
  };
}

/**
 * Serves a list of routes from one Express middleware; unmatched requests pass through.
 *
 * @example
 * ```ts
 * app.use(expressRoutes([{ method: 'GET', path: '/ping', handler: () => ({ status: 200, body: 'pong' }) }]));
 * ```
 */
export function expressRoutes(routes: readonly PlatRoute[], options: RoutesOptions = {}): RequestHandler {
  const table = new RouteTable(routes, options.prefix);
  return (req: Request, res: Response, next: NextFunction) => {
    const exchange = expressExchange(req, res);
    let match: ReturnType<RouteTable['match']>;
    try {
      match = table.match(req.method, req.path);
    } catch (error) {
      send(res, problemReply(error, options.statusOf, exchange.path));
      return;
    }
    if (match === undefined) {
      next();
      return;
    }
    exchange.matchedRoute = `${req.baseUrl ?? ''}${match.template}`;
    exchange.matchedParams = match.params;
    runRoute(exchange, match.route.handler, options.guard, options.statusOf).then(
      (reply) => send(res, reply),
      (error: unknown) => next(error),
    );
  };
}

/**
 * An Express error handler answering @plat errors as problem+json; other errors pass on.
 *
 * @example
 * ```ts
 * app.use(expressErrorHandler(statusTable({ NOT_FOUND: 404 })));
 * ```
 */
export function expressErrorHandler(statusOf?: StatusResolver): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!isPlatError(error) || res.headersSent) {
      next(error);
      return;
    }
    send(res, problemReply(error, statusOf, pathOf(req.originalUrl)));
  };
}

/**
 * Koa bridge (`@plat/core/koa`): turns framework-neutral middleware and routes into Koa middleware.
 * Koa 2 and 3; imports Koa types only. Route templates come from @koa/router when it matched.
 */
import type { Context, Middleware, Next } from 'koa';
import { encodeReply, problemReply, runMiddleware, runRoute } from './bridge';
import { isPlatError } from './errors';
import { exchangeFor, NodeExchange } from './exchange';
import type { StatusResolver } from './problem';
import { RouteTable } from './route-table';
import type { BridgeOptions, HttpReply, PlatMiddleware, PlatRoute, RoutesOptions } from './types';

/** What @koa/router leaves on the context after matching. */
type RoutedContext = Context & { _matchedRoute?: unknown; params?: Record<string, string> };

class KoaExchange extends NodeExchange {
  readonly framework = 'koa';
  constructor(private readonly ctx: RoutedContext) {
    super(ctx.req, ctx.res);
  }
  get method(): string {
    return this.ctx.method;
  }
  get url(): string {
    return this.ctx.originalUrl;
  }
  get path(): string {
    return this.ctx.path;
  }
  get query(): Readonly<Record<string, unknown>> {
    return this.ctx.query;
  }
  get params(): Readonly<Record<string, string>> {
    return this.matchedParams ?? this.ctx.params ?? {};
  }
  override get remoteAddress(): string | undefined {
    return this.ctx.ip;
  }
  route(): string | undefined {
    if (this.matchedRoute !== undefined) return this.matchedRoute;
    const matched = this.ctx._matchedRoute;
    return typeof matched === 'string' ? matched : undefined;
  }
  override setHeader(name: string, value: string): void {
    if (!this.ctx.headerSent) this.ctx.set(name, value);
  }
  override status(): number {
    return this.ctx.status;
  }
  protected parsedBody(): unknown {
    return (this.ctx.request as { body?: unknown }).body;
  }
}

/** The shared exchange for a Koa request (opens the request context on first use). */
export function koaExchange(ctx: Context): NodeExchange {
  return exchangeFor(ctx.req, () => new KoaExchange(ctx));
}

function send(ctx: Context, reply: HttpReply): void {
  const { status, headers, payload } = encodeReply(reply);
  // Headers first: Koa picks a content type for string bodies only when none is set.
  ctx.set(headers);
  ctx.status = status;
  // A null body would make Koa rewrite the status to 204 and invent a text body; send an empty one.
  if (payload !== undefined) ctx.body = payload;
  else if (status !== 204 && status !== 304) ctx.body = '';
}

/**
 * Wraps a framework-neutral middleware as Koa middleware.
 *
 * @example
 * ```ts
 * app.use(koaMiddleware(myMiddleware));
 * ```
 */
export function koaMiddleware(middleware: PlatMiddleware, options: BridgeOptions = {}): Middleware {
  return (ctx: Context, next: Next) =>
    new Promise<void>((resolve, reject) => {
      runMiddleware(
        middleware,
        koaExchange(ctx),
        {
          proceed: () => {
            next().then(() => resolve(), reject);
          },
          reply: (reply) => {
            send(ctx, reply);
            resolve();
          },
          fail: reject,
        },
        options.statusOf,
      );
    });
}

/**
 * Serves a list of routes from one Koa middleware; unmatched requests pass through.
 *
 * @example
 * ```ts
 * app.use(koaRoutes(routes, { prefix: '/admin' }));
 * ```
 */
export function koaRoutes(routes: readonly PlatRoute[], options: RoutesOptions = {}): Middleware {
  const table = new RouteTable(routes, options.prefix);
  return async (ctx: Context, next: Next) => {
    const exchange = koaExchange(ctx);
    let match: ReturnType<RouteTable['match']>;
    try {
      match = table.match(ctx.method, ctx.path);
    } catch (error) {
      send(ctx, problemReply(error, options.statusOf, ctx.path));
      return;
    }
    if (match === undefined) return next();
    exchange.matchedRoute = match.template;
    exchange.matchedParams = match.params;
    send(ctx, await runRoute(exchange, match.route.handler, options.guard, options.statusOf));
  };
}

/**
 * Koa middleware answering @plat errors thrown downstream as problem+json; other errors propagate.
 * Mount it first.
 *
 * @example
 * ```ts
 * app.use(koaErrorHandler(statusTable({ NOT_FOUND: 404 })));
 * ```
 */
export function koaErrorHandler(statusOf?: StatusResolver): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (error) {
      if (!isPlatError(error) || ctx.headerSent) throw error;
      send(ctx, problemReply(error, statusOf, ctx.path));
    }
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatusResolver } from './problem';

/** Who is making the request, once some package (usually @plat/apikeys) has authenticated it. */
export interface Principal {
  /** Stable id of the principal (an owner id, a user id, a service name). */
  readonly id: string;
  /** How the principal was authenticated, for example `api-key`. */
  readonly kind?: string;
  /** Scopes granted to this principal for this request. */
  readonly scopes?: readonly string[];
  readonly tenantId?: string;
  /** The id of the credential used (an API key id, never the key itself). */
  readonly credentialId?: string;
}

/** Per-request state shared by every @plat package. */
export interface RequestContext {
  /** Incoming `x-request-id` when it is a plain short id, otherwise a UUID. */
  readonly requestId: string;
  /** Epoch milliseconds when the context was opened. */
  readonly startedAt: number;
  /** `performance.now()` when the context was opened, for durations. */
  readonly startTime: number;
  method?: string;
  path?: string;
  principal?: Principal;
  tenantId?: string;
  /** Per-package values, keyed by registered symbols (see `createContextSlot`). */
  readonly slots: Map<symbol, unknown>;
  /** Fields packages add to the request's summary (see `annotateRequest`); read by the request log. */
  readonly annotations: Record<string, unknown>;
}

/** Fields a caller may set when opening a context outside HTTP (a job, a CLI command, a test). */
export interface RequestContextInit {
  requestId?: string;
  method?: string;
  path?: string;
  principal?: Principal;
  tenantId?: string;
}

// ---------------------------------------------------------------------------------------------
// The adapter contract: a package writes its HTTP behaviour once against these types, and
// @plat/core/express|fastify|koa translate them to each framework.
// ---------------------------------------------------------------------------------------------

export type FrameworkName = 'express' | 'fastify' | 'koa';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** How a response ended, passed to `onFinish` listeners. */
export interface FinishedResponse {
  status: number;
  /** From `Content-Length` when the framework set one. */
  bytes: number | undefined;
  /** True when the client went away before the response was fully written. */
  aborted: boolean;
}

/** A framework-neutral view of one request and its response. */
export interface HttpExchange {
  readonly framework: FrameworkName;
  readonly method: string;
  /** The path without the query string, as the framework routes it. */
  readonly path: string;
  /** The raw request target, query included. */
  readonly url: string;
  /** Parsed query string (shape as parsed by the framework). */
  readonly query: Readonly<Record<string, unknown>>;
  /** Route parameters, when the request was matched by a route. */
  readonly params: Readonly<Record<string, string>>;
  readonly remoteAddress: string | undefined;
  /** The request context opened for this request. */
  readonly context: RequestContext;
  /** The raw Node.js request and response, for what the contract does not cover. */
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** A request header by lower-case name; repeated headers are joined with `, `. */
  header(name: string): string | undefined;
  /**
   * The matched route template (`/workflows/:id`), never the raw URL; undefined before routing or
   * when no route matched. Read it in `onFinish` to get the final value.
   */
  route(): string | undefined;
  /** The body parsed by the framework, or read and parsed as JSON when no body parser ran. */
  readBody(): Promise<unknown>;
  setHeader(name: string, value: string): void;
  /** The response status as currently set. */
  status(): number;
  /**
   * Called once when the response has been sent or the connection closed. Listeners run last
   * registered first (like middleware unwinding), so a logger registered early sees what inner
   * middlewares recorded in `context.annotations` on finish.
   */
  onFinish(listener: (response: FinishedResponse) => void): void;
}

/** An answer produced by the core; a non-string body is sent as JSON. */
export interface HttpReply {
  status: number;
  headers?: Readonly<Record<string, string>>;
  body?: unknown;
}

/**
 * A middleware written once for all frameworks. Return a reply to answer now; otherwise the request
 * continues. Call `next()` yourself only to run the rest of the request inside something of your own
 * (an OpenTelemetry context, say); if you neither reply nor call it, the bridge continues for you.
 * For work after the response, use `exchange.onFinish`.
 */
export type PlatMiddleware = (
  exchange: HttpExchange,
  next: () => void,
) => HttpReply | undefined | Promise<HttpReply | undefined>;

/** A route handled by a package (health probes, key management, admin pages). */
export interface PlatRoute {
  method: HttpMethod;
  /** Express-style template relative to the mount point: `/api-keys/:id`. */
  path: string;
  handler: (exchange: HttpExchange) => HttpReply | Promise<HttpReply>;
}

/** Options every bridge accepts. */
export interface BridgeOptions {
  /** Maps the package's error codes to HTTP statuses for problem+json answers. */
  statusOf?: StatusResolver;
}

/** Options for mounting a list of routes. */
export interface RoutesOptions extends BridgeOptions {
  /**
   * Path prefix for the routes (`/admin`). With Express you may instead mount with
   * `app.use('/admin', ...)`; with Fastify, `register(plugin, { prefix })` also works.
   * @default ''
   */
  prefix?: string;
  /** Runs before every route, for example an admin guard; a reply stops the route. */
  guard?: PlatMiddleware;
}

/**
 * Fastify bridge (`@plat/core/fastify`): turns framework-neutral middleware and routes into Fastify
 * hooks and plugins. Fastify 5; imports Fastify types only.
 */
import { AsyncResource } from 'node:async_hooks';
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import { encodeReply, pathOf, problemReply, runMiddleware, runRoute } from './bridge';
import { isPlatError } from './errors';
import { exchangeFor, NodeExchange } from './exchange';
import type { StatusResolver } from './problem';
import { joinPath } from './route-table';
import type { BridgeOptions, HttpReply, PlatMiddleware, PlatRoute, RoutesOptions } from './types';

/**
 * Fastify parses bodies on stream events whose async context is not the request's, so whatever
 * context a middleware entered in `onRequest` would be lost by the time the handler runs. We keep a
 * resumption point per request and re-enter it in `preValidation`, after parsing.
 */
const RESUME = Symbol('@plat/core.fastify.resume');
type RawWithResume = FastifyRequest['raw'] & { [RESUME]?: AsyncResource };

/**
 * Only requests with a body lose their context (parsing happens on later stream events); without
 * one, Fastify runs the rest of the chain synchronously inside our `done()`, context intact.
 */
function mayHaveBody(raw: FastifyRequest['raw']): boolean {
  const length = raw.headers['content-length'];
  return (length !== undefined && length !== '0') || raw.headers['transfer-encoding'] !== undefined;
}

class FastifyExchange extends NodeExchange {
  readonly framework = 'fastify';
  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {
    super(request.raw, reply.raw);
  }
  get method(): string {
    return this.request.method;
  }
  get url(): string {
    return this.request.url;
  }
  get path(): string {
    return pathOf(this.request.url);
  }
  get query(): Readonly<Record<string, unknown>> {
    return (this.request.query ?? {}) as Record<string, unknown>;
  }
  get params(): Readonly<Record<string, string>> {
    return (this.request.params ?? {}) as Record<string, string>;
  }
  override get remoteAddress(): string | undefined {
    return this.request.ip;
  }
  route(): string | undefined {
    return this.request.routeOptions?.url;
  }
  override setHeader(name: string, value: string): void {
    if (!this.reply.sent) this.reply.header(name, value);
  }
  override status(): number {
    return this.reply.statusCode;
  }
  protected parsedBody(): unknown {
    return this.request.body;
  }
}

/** The shared exchange for a Fastify request (opens the request context on first use). */
export function fastifyExchange(request: FastifyRequest, reply: FastifyReply): NodeExchange {
  return exchangeFor(request.raw, () => new FastifyExchange(request, reply));
}

function send(reply: FastifyReply, answer: HttpReply): FastifyReply {
  const { status, headers, payload } = encodeReply(answer);
  return reply.code(status).headers(headers).send(payload);
}

type CallbackHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

/**
 * Wraps a framework-neutral middleware as a callback-style Fastify hook, for a route's `preHandler`
 * (or `preValidation`) option. Those run after body parsing, so the context they open reaches the
 * handler. As a route-level `onRequest` hook, the context is lost across body parsing unless some
 * `fastifyPlugin` of ours is registered on the app (it installs the re-entry hook).
 *
 * @example
 * ```ts
 * app.get('/secret', { preHandler: fastifyHook(requireScope('admin')) }, handler);
 * ```
 */
export function fastifyHook(middleware: PlatMiddleware, options: BridgeOptions = {}): CallbackHook {
  return (request, reply, done) => {
    runMiddleware(
      middleware,
      fastifyExchange(request, reply),
      {
        proceed: () => {
          // Captured inside every context the middleware entered (ours, OpenTelemetry's...).
          // A plain AsyncResource: `AsyncResource.bind` costs ~25 µs per call on Node 20.
          if (mayHaveBody(request.raw))
            (request.raw as RawWithResume)[RESUME] = new AsyncResource('plat.fastify');
          done();
        },
        reply: (answer) => {
          send(reply, answer);
        },
        fail: (error) => done(error as FastifyError),
      },
      options.statusOf,
    );
  };
}

const resumingInstances = new WeakSet<FastifyInstance>();

function resumeContext(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const resume = (request.raw as RawWithResume)[RESUME];
  if (resume === undefined) done();
  else resume.runInAsyncScope(done);
}

/** Marks a plugin so its hooks apply to the whole app instead of an encapsulated child context. */
function global<T extends FastifyPluginCallback>(plugin: T, name: string): T {
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: name });
  return plugin;
}

/**
 * Wraps a framework-neutral middleware as an app-wide Fastify plugin (an `onRequest` hook).
 *
 * @example
 * ```ts
 * await app.register(fastifyPlugin(myMiddleware));
 * ```
 */
export function fastifyPlugin(
  middleware: PlatMiddleware,
  options: BridgeOptions & { name?: string } = {},
): FastifyPluginCallback {
  const hook = fastifyHook(middleware, options);
  return global((instance, _opts, done) => {
    instance.addHook('onRequest', hook);
    if (!resumingInstances.has(instance)) {
      resumingInstances.add(instance);
      instance.addHook('preValidation', resumeContext);
    }
    done();
  }, options.name ?? '@plat/middleware');
}

/**
 * A Fastify plugin registering a list of routes (honours `register(plugin, { prefix })` too).
 *
 * @example
 * ```ts
 * await app.register(fastifyRoutes(routes), { prefix: '/admin' });
 * ```
 */
export function fastifyRoutes(
  routes: readonly PlatRoute[],
  options: RoutesOptions = {},
): FastifyPluginCallback {
  return (instance, _opts, done) => {
    for (const route of routes) {
      instance.route({
        method: route.method,
        url: options.prefix ? joinPath(options.prefix, route.path) : route.path,
        handler: async (request, reply) => {
          const answer = await runRoute(
            fastifyExchange(request, reply),
            route.handler,
            options.guard,
            options.statusOf,
          );
          return send(reply, answer);
        },
      });
    }
    done();
  };
}

/**
 * A Fastify error handler answering @plat errors as problem+json; other errors get Fastify's default.
 *
 * @example
 * ```ts
 * app.setErrorHandler(fastifyErrorHandler(statusTable({ NOT_FOUND: 404 })));
 * ```
 */
export function fastifyErrorHandler(
  statusOf?: StatusResolver,
): (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined {
  return (error, request, reply) => {
    if (isPlatError(error)) return send(reply, problemReply(error, statusOf, pathOf(request.url)));
    // Rethrowing hands the error to the parent (or Fastify's default) error handler.
    throw error;
  };
}

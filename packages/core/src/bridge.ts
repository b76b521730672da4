/**
 * What the three framework bridges have in common: running a PlatMiddleware inside the request
 * context and turning replies and errors into a form each framework can send.
 */
import { runWithContext } from './context';
import { isPlatError } from './errors';
import { type StatusResolver, toProblem } from './problem';
import type { HttpExchange, HttpReply, PlatMiddleware } from './types';

/** Callbacks through which a bridge tells the shared runner how to continue or answer. */
export interface MiddlewareOutcome {
  /** Continue the framework's chain; called inside the request context. */
  proceed(): void;
  reply(reply: HttpReply): void;
  /** Hand an error that is not a @plat error to the framework's own error handling. */
  fail(error: unknown): void;
}

/**
 * Runs `middleware` for `exchange`: a returned reply is sent, otherwise the chain proceeds exactly
 * once, inside the request context. @plat errors become problem+json answers.
 */
export function runMiddleware(
  middleware: PlatMiddleware,
  exchange: HttpExchange,
  outcome: MiddlewareOutcome,
  statusOf?: StatusResolver,
): void {
  let proceeded = false;
  const next = (): void => {
    if (proceeded) return;
    proceeded = true;
    runWithContext(exchange.context, outcome.proceed);
  };
  const settle = (reply: HttpReply | undefined): void => {
    if (reply !== undefined && !proceeded) outcome.reply(reply);
    else next();
  };
  const failed = (error: unknown): void => {
    if (proceeded) return; // downstream already owns the response; nothing sane left to send
    if (isPlatError(error)) outcome.reply(problemReply(error, statusOf, exchange.path));
    else outcome.fail(error);
  };
  let result: ReturnType<PlatMiddleware>;
  try {
    result = runWithContext(exchange.context, () => middleware(exchange, next));
  } catch (error) {
    failed(error);
    return;
  }
  // Synchronous middleware (most of them) skip the promise machinery entirely.
  if (result instanceof Promise) result.then(settle, failed);
  else settle(result);
}

/**
 * The problem+json reply for an error. Pass the request path as `instance`, never the full URL: a
 * query string may carry tokens or the very input that was refused.
 */
export function problemReply(
  error: unknown,
  statusOf: StatusResolver | undefined,
  instance?: string,
): HttpReply {
  const problem = toProblem(error, statusOf, instance);
  return { status: problem.status, headers: problem.headers, body: problem.body };
}

/** The path part of a request target (everything before `?`). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** A reply ready to write: a string or bytes payload and complete headers. */
export interface EncodedReply {
  status: number;
  headers: Record<string, string>;
  payload: string | Uint8Array | undefined;
}

/** Serialises a reply body: strings and bytes go as they are, anything else as JSON. */
export function encodeReply(reply: HttpReply): EncodedReply {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value;
  const { body } = reply;
  if (body === undefined) return { status: reply.status, headers, payload: undefined };
  if (typeof body === 'string' || body instanceof Uint8Array) {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
    return { status: reply.status, headers, payload: body };
  }
  headers['content-type'] ??= 'application/json; charset=utf-8';
  return { status: reply.status, headers, payload: JSON.stringify(body) };
}

/**
 * Runs a route: the optional guard first (a reply from it stops the route), then the handler, all
 * inside the request context. Errors come back as problem+json replies; other errors reject.
 */
export async function runRoute(
  exchange: HttpExchange,
  handler: (exchange: HttpExchange) => HttpReply | Promise<HttpReply>,
  guard: PlatMiddleware | undefined,
  statusOf: StatusResolver | undefined,
): Promise<HttpReply> {
  return runWithContext(exchange.context, async () => {
    try {
      if (guard !== undefined) {
        const stop = await guard(exchange, () => {});
        if (stop !== undefined) return stop;
      }
      return await handler(exchange);
    } catch (error) {
      if (isPlatError(error)) return problemReply(error, statusOf, exchange.path);
      throw error;
    }
  });
}

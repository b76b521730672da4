/**
 * The one request context shared by every @plat package: adapters open it per request, logging
 * reads it, apikeys writes the principal into it, db-perf uses it as the unit of work.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Principal, RequestContext, RequestContextInit } from './types';

/**
 * The store lives on globalThis under a registered symbol so that an ESM and a CJS copy of this
 * module (the dual-package hazard), or two installed versions, still share one context.
 */
const STORAGE_KEY = Symbol.for('@plat/core.requestContext');
type GlobalWithStorage = typeof globalThis & { [STORAGE_KEY]?: AsyncLocalStorage<RequestContext> };
const globalRef = globalThis as GlobalWithStorage;
if (globalRef[STORAGE_KEY] === undefined) globalRef[STORAGE_KEY] = new AsyncLocalStorage();
const storage: AsyncLocalStorage<RequestContext> = globalRef[STORAGE_KEY];

/** Incoming request ids are echoed into logs, so only short, plain ids are accepted. */
const SAFE_REQUEST_ID = /^[\w.:@-]{1,128}$/;

/**
 * Returns the incoming request id when it is safe to reuse, otherwise a fresh UUID.
 *
 * @example
 * ```ts
 * resolveRequestId(req.headers['x-request-id']); // 'abc-123' or a new UUID
 * ```
 */
export function resolveRequestId(incoming: string | readonly string[] | undefined): string {
  const candidate = Array.isArray(incoming) ? incoming[0] : incoming;
  return typeof candidate === 'string' && SAFE_REQUEST_ID.test(candidate) ? candidate : randomUUID();
}

/**
 * Creates a context object without entering it (adapters create it once per request).
 *
 * @example
 * ```ts
 * const ctx = createRequestContext({ method: 'GET', path: '/workflows' });
 * ```
 */
export function createRequestContext(init: RequestContextInit = {}): RequestContext {
  return new OpenContext(init);
}

/** The context object; the slot map is created on first use since most requests never need one. */
class OpenContext implements RequestContext {
  readonly requestId: string;
  readonly startedAt = Date.now();
  readonly startTime = performance.now();
  method?: string;
  path?: string;
  principal?: Principal;
  tenantId?: string;
  #slots: Map<symbol, unknown> | undefined;
  #annotations: Record<string, unknown> | undefined;

  constructor(init: RequestContextInit) {
    this.requestId = init.requestId ?? randomUUID();
    if (init.method !== undefined) this.method = init.method;
    if (init.path !== undefined) this.path = init.path;
    if (init.principal !== undefined) this.principal = init.principal;
    if (init.tenantId !== undefined) this.tenantId = init.tenantId;
  }

  get slots(): Map<symbol, unknown> {
    if (this.#slots === undefined) this.#slots = new Map();
    return this.#slots;
  }

  get annotations(): Record<string, unknown> {
    if (this.#annotations === undefined) this.#annotations = {};
    return this.#annotations;
  }
}

/**
 * Runs `fn` inside a request context; everything `fn` awaits or schedules sees the same context.
 * Pass an existing context to re-enter it, or init fields to create a new one.
 *
 * @example
 * ```ts
 * await runWithContext({ requestId: 'job-42' }, async () => {
 *   currentContext()?.requestId; // 'job-42'
 * });
 * ```
 */
export function runWithContext<T>(context: RequestContext | RequestContextInit, fn: () => T): T {
  const ctx = isRequestContext(context) ? context : createRequestContext(context);
  return storage.run(ctx, fn);
}

/**
 * The context of the request being handled, or undefined outside a request.
 *
 * @example
 * ```ts
 * const requestId = currentContext()?.requestId;
 * ```
 */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/**
 * Records the authenticated principal on the current context (apikeys calls this after validating
 * a key). Returns false when called outside a request context.
 *
 * @example
 * ```ts
 * setPrincipal({ id: 'user_1', kind: 'api-key', scopes: ['workflows:read'] });
 * ```
 */
export function setPrincipal(principal: Principal): boolean {
  const ctx = storage.getStore();
  if (ctx === undefined) return false;
  ctx.principal = principal;
  if (principal.tenantId !== undefined && ctx.tenantId === undefined) ctx.tenantId = principal.tenantId;
  return true;
}

/** A typed per-request value that one package keeps in the shared context without clashing with others. */
export interface ContextSlot<T> {
  /** The value in the current context, or undefined (also outside a context). */
  get(): T | undefined;
  /** Stores the value in the current context; returns false outside a context. */
  set(value: T): boolean;
  /** The current value, created by `create` on first use in this context; undefined outside a context. */
  getOrCreate(create: () => T): T | undefined;
}

/**
 * Declares a per-request slot, for example db-perf's unit of work or a per-request loader. Name it
 * after your package (`@plat/db-perf.loaders`): the key is a registered symbol, so an ESM and a CJS
 * copy of a package (or two installed versions) reach the same slot, and one name is one slot.
 *
 * @example
 * ```ts
 * const loaders = createContextSlot<Map<string, DataLoader<string, Row>>>('@plat/db-perf.loaders');
 * const map = loaders.getOrCreate(() => new Map());
 * ```
 */
export function createContextSlot<T>(name: string): ContextSlot<T> {
  const key = Symbol.for(`@plat/core.slot:${name}`);
  return {
    get: () => storage.getStore()?.slots.get(key) as T | undefined,
    set(value) {
      const ctx = storage.getStore();
      if (ctx === undefined) return false;
      ctx.slots.set(key, value);
      return true;
    },
    getOrCreate(create) {
      const ctx = storage.getStore();
      if (ctx === undefined) return undefined;
      if (!ctx.slots.has(key)) ctx.slots.set(key, create());
      return ctx.slots.get(key) as T;
    },
  };
}

function isRequestContext(value: RequestContext | RequestContextInit): value is RequestContext {
  // Contexts from another copy of this module are not OpenContext instances but do carry these two.
  return (
    value instanceof OpenContext ||
    (typeof (value as RequestContext).startTime === 'number' && 'slots' in value)
  );
}

/**
 * Adds fields to the current request's summary, for the request log line and traces: packages report
 * what they did (db-perf its query count, apikeys the key id) without depending on the logger.
 * Later values for the same field replace earlier ones. Returns false outside a request context.
 *
 * @example
 * ```ts
 * annotateRequest({ 'db.queries': 12, 'db.time_ms': 8.4 });
 * ```
 */
export function annotateRequest(fields: Readonly<Record<string, unknown>>): boolean {
  const ctx = storage.getStore();
  if (ctx === undefined) return false;
  Object.assign(ctx.annotations, fields);
  return true;
}

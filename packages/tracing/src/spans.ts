import {
  type Attributes,
  type AttributeValue,
  context,
  type Span,
  type SpanOptions,
  trace,
} from '@opentelemetry/api';
import { ATTR } from './semconv';
import { markFailed, scopeTracer } from './tracer';
import type { SpanStartOptions, TracedOptions } from './types';

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs `fn` inside a new span (a child of the active one), sync or async. The span ends when `fn`
 * returns or its promise settles; a throw or rejection is recorded on the span, which is marked as
 * failed, and the error is passed on unchanged. Everything `fn` awaits sees the span as active.
 *
 * @example
 * ```ts
 * const invoice = await withSpan('billing.render-invoice', async (span) => {
 *   span.setAttribute('invoice.lines', lines.length);
 *   return render(lines);
 * }, { 'tenant.id': tenantId });
 * ```
 */
export function withSpan<T>(
  name: string,
  fn: (span: Span) => T,
  attributes?: Attributes,
  options: SpanStartOptions = {},
): T {
  const spanOptions: SpanOptions = {};
  if (attributes !== undefined) spanOptions.attributes = attributes;
  if (options.kind !== undefined) spanOptions.kind = options.kind;
  if (options.root === true) spanOptions.root = true;
  const parent = context.active();
  const span = scopeTracer().startSpan(name, spanOptions, parent);
  return context.with(trace.setSpan(parent, span), () => {
    let result: T;
    try {
      result = fn(span);
    } catch (error) {
      markFailed(span, error);
      span.end();
      throw error;
    }
    if (!isPromiseLike(result)) {
      span.end();
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        markFailed(span, error);
        span.end();
        throw error;
      },
    ) as T;
  });
}

type Method<This, Args extends unknown[], Return> = (this: This, ...args: Args) => Return;

function ownerName(self: unknown, isStatic: boolean): string {
  if (isStatic && typeof self === 'function') return self.name || 'anonymous';
  const ctor = (self as { constructor?: { name?: string } } | null | undefined)?.constructor;
  return ctor?.name || 'anonymous';
}

/**
 * A standard (TC39) method decorator that runs every call of the method inside a span named
 * `<ClassName>.<method>` (or `options.name`), sync or async, like `withSpan`.
 *
 * @example
 * ```ts
 * class WorkflowRunner {
 *   @traced()
 *   async run(id: string) { ... }
 *
 *   @traced({ name: 'workflow.validate', attributes: { 'workflow.kind': 'dag' } })
 *   validate(graph: Graph) { ... }
 * }
 * ```
 */
export function traced(options: TracedOptions | string = {}) {
  const settings: TracedOptions = typeof options === 'string' ? { name: options } : options;
  return function decorate<This, Args extends unknown[], Return>(
    method: Method<This, Args, Return>,
    decoratorContext: ClassMethodDecoratorContext<This, Method<This, Args, Return>>,
  ): Method<This, Args, Return> {
    const methodName = String(decoratorContext.name);
    const isStatic = decoratorContext.static;
    return function tracedMethod(this: This, ...args: Args): Return {
      const qualified = `${ownerName(this, isStatic)}.${methodName}`;
      const attributes: Attributes = { [ATTR.CODE_FUNCTION_NAME]: qualified, ...settings.attributes };
      return withSpan(settings.name ?? qualified, () => method.apply(this, args), attributes, settings);
    };
  };
}

/**
 * The active span, or undefined outside any span.
 *
 * @example
 * ```ts
 * currentSpan()?.setAttribute('cart.items', items.length);
 * ```
 */
export function currentSpan(): Span | undefined {
  return trace.getSpan(context.active());
}

/**
 * Sets attributes on the active span. Returns false when there is no active span.
 *
 * @example
 * ```ts
 * setAttributes({ 'workflow.id': id, 'workflow.nodes': nodes.length });
 * ```
 */
export function setAttributes(attributes: Attributes): boolean {
  const span = currentSpan();
  if (span === undefined) return false;
  span.setAttributes(attributes);
  return true;
}

/**
 * Adds a timestamped event to the active span. Returns false when there is no active span.
 *
 * @example
 * ```ts
 * addEvent('cache.miss', { 'cache.key': key });
 * ```
 */
export function addEvent(name: string, attributes?: Record<string, AttributeValue>): boolean {
  const span = currentSpan();
  if (span === undefined) return false;
  span.addEvent(name, attributes);
  return true;
}

/**
 * Records an error on the active span and marks it failed, for errors you handle yourself.
 * Returns false when there is no active span.
 *
 * @example
 * ```ts
 * try { await charge(card); } catch (err) { recordError(err); return fallback(); }
 * ```
 */
export function recordError(error: unknown): boolean {
  const span = currentSpan();
  if (span === undefined) return false;
  markFailed(span, error);
  return true;
}

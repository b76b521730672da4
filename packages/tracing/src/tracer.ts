import { type Span, SpanStatusCode, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { ATTR, SCOPE_NAME, SCOPE_VERSION } from './semconv';

let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * This package's tracer from the global provider. The global provider object changes only when
 * tracing is set up or shut down, so the lookup is cached on its identity (a tracer taken from an
 * earlier provider would keep sending spans to a provider that was shut down).
 */
export function scopeTracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (provider !== cachedProvider || cachedTracer === undefined) {
    cachedProvider = provider;
    cachedTracer = provider.getTracer(SCOPE_NAME, SCOPE_VERSION);
  }
  return cachedTracer;
}

/** A tracer from an explicit provider, or this package's tracer from the global one. */
export function tracerFrom(provider: TracerProvider | undefined): () => Tracer {
  if (provider === undefined) return scopeTracer;
  const tracer = provider.getTracer(SCOPE_NAME, SCOPE_VERSION);
  return () => tracer;
}

/** The low-cardinality `error.type` of a thrown value: a string code when it has one, else its class name. */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0 && code.length <= 64) return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name.length > 0) return name;
    return error.constructor?.name ?? 'Error';
  }
  return typeof error;
}

/**
 * True for anything shaped like an Error. `instanceof Error` is not enough: errors made in another
 * realm (a vm context, a native addon bound to one) fail it while carrying a name, message and stack.
 */
function isErrorLike(value: unknown): value is Error {
  return typeof value === 'object' && value !== null && typeof (value as Error).message === 'string';
}

/** The exception to record for any thrown value. */
export function asException(error: unknown): Error {
  return isErrorLike(error) ? error : { name: typeof error, message: String(error) };
}

/** The status message for any thrown value. */
export function errorMessage(error: unknown): string {
  return isErrorLike(error) ? error.message : String(error);
}

/** Records an exception on a span and marks it failed (status ERROR with the message, `error.type`). */
export function markFailed(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  span.recordException(asException(error));
  span.setAttribute(ATTR.ERROR_TYPE, errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
}

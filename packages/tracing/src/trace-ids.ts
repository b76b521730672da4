import {
  context,
  isSpanContextValid,
  propagation,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { TraceIds } from './types';

/** The W3C `traceparent` value for a span context. */
export function formatTraceparent(spanContext: SpanContext): string {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

function activeSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * The trace id, span id and sampling flag of the active span, or undefined outside any span.
 *
 * @example
 * ```ts
 * logger.info('charged card', { traceId: currentTraceIds()?.traceId });
 * ```
 */
export function currentTraceIds(): TraceIds | undefined {
  const spanContext = activeSpanContext();
  if (spanContext === undefined) return undefined;
  return {
    traceId: spanContext.traceId,
    spanId: spanContext.spanId,
    sampled: (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
    traceparent: formatTraceparent(spanContext),
  };
}

/**
 * The active trace id (32 hex characters), or undefined outside any span.
 *
 * @example
 * ```ts
 * res.setHeader('x-trace-id', currentTraceId() ?? '');
 * ```
 */
export function currentTraceId(): string | undefined {
  return activeSpanContext()?.traceId;
}

/**
 * The active span id (16 hex characters), or undefined outside any span.
 *
 * @example
 * ```ts
 * const spanId = currentSpanId();
 * ```
 */
export function currentSpanId(): string | undefined {
  return activeSpanContext()?.spanId;
}

/**
 * Writes the active trace context (`traceparent`, `tracestate`, `baggage`) into a carrier, for
 * messages, jobs or requests made without an instrumented client. Returns the carrier.
 *
 * @example
 * ```ts
 * await queue.add('send-email', payload, { headers: injectTraceHeaders({}) });
 * ```
 */
export function injectTraceHeaders<T extends Record<string, string>>(carrier: T): T {
  propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * Runs `fn` as a continuation of the trace whose context `carrier` holds (written by
 * `injectTraceHeaders` or any W3C-compliant producer); spans started in `fn` become its children.
 *
 * @example
 * ```ts
 * worker.on('job', (job) => continueTrace(job.headers, () => withSpan('send-email', () => send(job))));
 * ```
 */
export function continueTrace<T>(
  carrier: Readonly<Record<string, string | string[] | undefined>>,
  fn: () => T,
): T {
  return context.with(propagation.extract(context.active(), carrier), fn);
}

/**
 * Event metadata taken from the @plat/core request context and, when @opentelemetry/api is
 * installed, from the active span.
 */
import { createContextSlot, currentContext } from '@plat/core';
import type { EventMetadata, RecordedEvent } from './types';

/** The event a subscription handler is handling: events it appends are caused by it. */
export const causingEvent =
  createContextSlot<Pick<RecordedEvent, 'id' | 'metadata'>>('event-store.causation');

interface SpanContextLike {
  traceId: string;
  spanId: string;
}
interface TraceApiLike {
  getActiveSpan(): { spanContext(): SpanContextLike } | undefined;
}

let traceApi: TraceApiLike | null | undefined;
let loading: Promise<void> | undefined;
const INVALID_TRACE = /^0+$/;

/**
 * Loads @opentelemetry/api once if it is installed (it is an optional peer). Until it has loaded,
 * or when it is missing, events simply carry no trace id.
 */
export function loadTraceApi(): Promise<void> {
  loading ??= import('@opentelemetry/api').then(
    (api) => {
      traceApi = api.trace;
    },
    () => {
      traceApi = null;
    },
  );
  return loading;
}

function activeSpan(): SpanContextLike | undefined {
  const span = traceApi?.getActiveSpan()?.spanContext();
  return span === undefined || INVALID_TRACE.test(span.traceId) ? undefined : span;
}

/**
 * The metadata every event of one append gets: actor, request id, correlation and causation ids,
 * trace and span ids, then the store-wide and the per-append extras.
 */
export function contextMetadata(
  causedBy: Pick<RecordedEvent, 'id' | 'metadata'> | undefined,
  ...extras: ReadonlyArray<Record<string, unknown> | undefined>
): EventMetadata {
  const ctx = currentContext();
  const metadata: EventMetadata = {};
  const principal = ctx?.principal;
  if (principal !== undefined) metadata.actor = principal.id;
  const tenantId = ctx?.tenantId ?? principal?.tenantId;
  if (tenantId !== undefined) metadata.tenantId = tenantId;
  if (ctx !== undefined) metadata.requestId = ctx.requestId;
  const cause = causedBy ?? causingEvent.get();
  if (cause !== undefined) {
    metadata.causationId = cause.id;
    metadata.correlationId =
      typeof cause.metadata.correlationId === 'string' ? cause.metadata.correlationId : cause.id;
    // A handler acting for an event keeps that event's actor unless a request says otherwise.
    if (metadata.actor === undefined && typeof cause.metadata.actor === 'string')
      metadata.actor = cause.metadata.actor;
  } else if (ctx !== undefined) {
    metadata.correlationId = ctx.requestId;
    metadata.causationId = ctx.requestId;
  }
  const span = activeSpan();
  if (span !== undefined) {
    metadata.traceId = span.traceId;
    metadata.spanId = span.spanId;
  }
  for (const extra of extras) if (extra !== undefined) Object.assign(metadata, extra);
  return metadata;
}

/**
 * Reads the active OpenTelemetry span through `@opentelemetry/api`, an optional peer dependency:
 * without it installed (or without a registered tracer) lines simply carry no trace ids.
 */
import { createRequire } from 'node:module';

/** The ids of a span, as OpenTelemetry's `SpanContext` holds them. */
export interface SpanIds {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/** The two functions of `@opentelemetry/api` we use, typed structurally so it stays optional. */
interface OtelApi {
  context: { active(): unknown };
  trace: { getSpan(context: unknown): { spanContext(): SpanIds } | undefined };
}

let api: OtelApi | null | undefined;

function loadApi(): OtelApi | null {
  const attempts = [
    // CommonJS builds (and jest): the caller's own module system, so a registered API is found.
    () => require('@opentelemetry/api') as Partial<OtelApi>,
    // ES module builds, where bundlers turn the line above into a shim that throws.
    () => createRequire(import.meta.url)('@opentelemetry/api') as Partial<OtelApi>,
  ];
  for (const attempt of attempts) {
    try {
      const mod = attempt();
      if (typeof mod.trace?.getSpan === 'function' && typeof mod.context?.active === 'function')
        return mod as OtelApi;
    } catch {
      // Not installed, or not loadable this way: try the next way, or go without trace ids.
    }
  }
  return null;
}

const INVALID_TRACE_ID = '00000000000000000000000000000000';
const INVALID_SPAN_ID = '0000000000000000';

/**
 * The ids of the span active in the current async context, or undefined when there is none (or
 * `@opentelemetry/api` is not installed).
 *
 * @example
 * ```ts
 * const ids = activeSpanIds(); // { traceId: '4bf92f35...', spanId: '00f067aa...', traceFlags: 1 }
 * ```
 */
export function activeSpanIds(): SpanIds | undefined {
  if (api === undefined) api = loadApi();
  if (api === null) return undefined;
  const span = api.trace.getSpan(api.context.active());
  if (span === undefined) return undefined;
  const ids = span.spanContext();
  if (ids.traceId.length !== 32 || ids.traceId === INVALID_TRACE_ID || ids.spanId === INVALID_SPAN_ID)
    return undefined;
  return ids;
}

/** `01` for sampled, `00` otherwise: the two hex digits OpenTelemetry's log bridges write. */
export function traceFlagsHex(flags: number): string {
  return flags < 16 ? `0${flags.toString(16)}` : flags.toString(16);
}

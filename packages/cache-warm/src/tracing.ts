/**
 * Spans for warming runs when @opentelemetry/api is installed (an optional peer): with
 * @plat/tracing set up they reach the collector; without an SDK the API is a no-op.
 */
import type { RunResult, RunTrigger } from './types';

/** Runs `work` inside a span named `cache-warm.run` that carries the run's outcome. */
export type RunTracer = (
  warmer: string,
  trigger: RunTrigger,
  work: () => Promise<RunResult>,
) => Promise<RunResult>;

interface SpanLike {
  setAttributes(attributes: Record<string, string | number | boolean>): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}
interface TracerLike {
  startActiveSpan<T>(name: string, fn: (span: SpanLike) => T): T;
}

let loading: Promise<RunTracer | undefined> | undefined;

/** Loads @opentelemetry/api once; undefined when it is not installed. */
export function loadTracer(): Promise<RunTracer | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (api) => {
      const tracer = api.trace.getTracer('@plat/cache-warm') as unknown as TracerLike;
      const tracerFn: RunTracer = (warmer, trigger, work) =>
        tracer.startActiveSpan('cache-warm.run', async (span) => {
          span.setAttributes({ 'cache_warm.warmer': warmer, 'cache_warm.trigger': trigger });
          try {
            const result = await work();
            span.setAttributes({
              'cache_warm.keys': result.keys,
              'cache_warm.warmed': result.warmed,
              'cache_warm.skipped': result.skipped,
              'cache_warm.failed': result.failed,
              'cache_warm.deadline_exceeded': result.deadlineExceeded,
            });
            // 2 is SpanStatusCode.ERROR: a run with failures is worth finding in a trace search.
            if (result.failed > 0) span.setStatus({ code: 2, message: `${result.failed} key(s) failed` });
            return result;
          } finally {
            span.end();
          }
        });
      return tracerFn;
    },
    () => undefined,
  );
  return loading;
}

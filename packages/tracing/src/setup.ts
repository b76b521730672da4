import { arch as hostArch, hostname } from 'node:os';
import { type Attributes, context, propagation, type TextMapPropagator, trace } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  defaultResource,
  detectResources,
  envDetector,
  type Resource,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { ParentBasedSampler, type Sampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { TracingError } from './errors';
import { createExportPipeline } from './exporters';
import { createInstrumentations, enableInstrumentations } from './instrumentations';
import { ATTR } from './semconv';
import type { TracingHandle, TracingOptions } from './types';

/** One active setup per process, even with an ESM and a CJS copy of this package loaded. */
const ACTIVE = Symbol.for('@plat/tracing.active');
type GlobalWithActive = typeof globalThis & { [ACTIVE]?: boolean };
const globalRef = globalThis as GlobalWithActive;

function env(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function buildResource(options: TracingOptions): Resource {
  // Lowest precedence first: conventions of the runtime, then the environment, then code.
  const fallbacks: Attributes = {
    'host.name': hostname(),
    'host.arch': hostArch(),
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
  };
  const npmVersion = env('npm_package_version');
  if (npmVersion !== undefined) fallbacks[ATTR.SERVICE_VERSION] = npmVersion;
  const nodeEnv = env('NODE_ENV');
  if (nodeEnv !== undefined) fallbacks[ATTR.DEPLOYMENT_ENVIRONMENT_NAME] = nodeEnv;

  const explicit: Attributes = {};
  if (options.serviceName !== undefined) explicit[ATTR.SERVICE_NAME] = options.serviceName;
  if (options.serviceVersion !== undefined) explicit[ATTR.SERVICE_VERSION] = options.serviceVersion;
  if (options.environment !== undefined) explicit[ATTR.DEPLOYMENT_ENVIRONMENT_NAME] = options.environment;

  // envDetector reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (the latter winning, per spec).
  // The process detector is left out on purpose: it records command-line arguments, which may hold
  // secrets. The host detector is replaced by the two attributes above: its host.id is read
  // asynchronously, which would hold every export (and the memory exporter) until it resolves.
  return defaultResource()
    .merge(resourceFromAttributes(fallbacks))
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes(options.resourceAttributes ?? {}))
    .merge(resourceFromAttributes(explicit));
}

/** Parent-based ratio sampling from the options; undefined lets the SDK read OTEL_TRACES_SAMPLER. */
function buildSampler(options: TracingOptions): Sampler | undefined {
  if (options.sampler !== undefined) return options.sampler;
  const ratio = options.sampleRatio;
  if (ratio === undefined) return undefined;
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new TracingError(
      'INVALID_OPTIONS',
      `sampleRatio must be a number from 0 to 1 (got ${String(ratio)})`,
    );
  }
  return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
}

/** W3C trace context and baggage, or the subset OTEL_PROPAGATORS names. */
function buildPropagator(): TextMapPropagator {
  const names = (env('OTEL_PROPAGATORS') ?? 'tracecontext,baggage')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const propagators: TextMapPropagator[] = [];
  for (const name of new Set(names)) {
    if (name === 'tracecontext') propagators.push(new W3CTraceContextPropagator());
    else if (name === 'baggage') propagators.push(new W3CBaggagePropagator());
    else if (name !== 'none') {
      process.emitWarning(
        `OTEL_PROPAGATORS: "${name}" is not supported (tracecontext, baggage, none); ignored`,
        {
          code: 'PLAT_TRACING_ENV',
        },
      );
    }
  }
  return new CompositePropagator({ propagators });
}

function validate(options: TracingOptions): void {
  for (const key of ['serviceName', 'serviceVersion', 'environment'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw new TracingError('INVALID_OPTIONS', `${key} must be a non-empty string`);
    }
  }
}

/**
 * A failed final export (collector down during a deploy) is reported, never thrown: flush and
 * shutdown run in signal handlers, where a rejection would crash the process on its way out.
 */
function warnExportFailure(error: unknown): void {
  const reason = error instanceof Error ? error.message : String(error);
  process.emitWarning(`@plat/tracing: spans could not be exported: ${reason}`, {
    code: 'PLAT_TRACING_EXPORT',
  });
}

const disabledHandle: TracingHandle = {
  enabled: false,
  provider: undefined,
  resource: undefined,
  memoryExporter: undefined,
  forceFlush: async () => {},
  shutdown: async () => {},
};

/**
 * Sets up OpenTelemetry tracing for the process in one call: a Node tracer provider with the
 * service's resource, W3C trace-context and baggage propagation, parent-based ratio sampling, a
 * batch exporter (OTLP over HTTP by default) and the automatic instrumentation of outgoing HTTP and
 * fetch, `pg` and node-redis. Call it before the app imports `pg` or `redis` (a `--import` /
 * `--require` preload file is the usual place). The standard `OTEL_*` variables fill unset options.
 *
 * @example
 * ```ts
 * // tracing.ts, loaded with `node --import ./tracing.js app.js`
 * import { setupTracing } from '@plat/tracing';
 * const tracing = setupTracing({ serviceName: 'workflows', sampleRatio: 0.1 });
 * process.on('SIGTERM', () => void tracing.shutdown());
 * ```
 */
export function setupTracing(options: TracingOptions = {}): TracingHandle {
  if (env('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return disabledHandle;
  if (globalRef[ACTIVE] === true) {
    throw new TracingError(
      'ALREADY_SET_UP',
      'Tracing is already set up in this process; call shutdown() on the earlier handle first',
    );
  }
  validate(options);
  const sampler = buildSampler(options);
  const pipeline = createExportPipeline(options);
  const instrumentations = createInstrumentations(options.instrumentations);

  const resource = buildResource(options);
  const provider = new NodeTracerProvider({
    resource,
    ...(sampler === undefined ? {} : { sampler }),
    spanProcessors: [...pipeline.processors, ...(options.spanProcessors ?? [])],
  });
  provider.register({ propagator: buildPropagator() });
  // register() does not report failure: another SDK registered first keeps the global provider.
  const registered = (trace.getTracerProvider() as { getDelegate?: () => unknown }).getDelegate?.();
  if (registered !== provider) {
    void provider.shutdown();
    throw new TracingError(
      'ALREADY_SET_UP',
      'Another OpenTelemetry tracer provider is already registered in this process',
    );
  }
  globalRef[ACTIVE] = true;
  const disableInstrumentations = enableInstrumentations(instrumentations, provider);

  let shutdown: Promise<void> | undefined;
  return {
    enabled: true,
    provider,
    resource,
    memoryExporter: pipeline.memoryExporter,
    forceFlush: () => provider.forceFlush().catch(warnExportFailure),
    shutdown() {
      shutdown ??= (async () => {
        disableInstrumentations();
        try {
          await provider.shutdown();
        } catch (error) {
          warnExportFailure(error);
        } finally {
          trace.disable();
          context.disable();
          propagation.disable();
          globalRef[ACTIVE] = false;
        }
      })();
      return shutdown;
    },
  };
}

import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { TracingError } from './errors';
import type { BatchOptions, ExporterName, OtlpExporterOptions, OtlpProtocol, TracingOptions } from './types';

const EXPORTER_NAMES: ReadonlySet<string> = new Set(['otlp', 'console', 'memory', 'none']);
const ENV_EXPORTER_NAMES: ReadonlySet<string> = new Set(['otlp', 'console', 'none']);
const PROTOCOLS: ReadonlySet<string> = new Set(['http/protobuf', 'http/json']);

/** What the exporter option resolved to: the processors to install and the memory exporter, if any. */
export interface ExportPipeline {
  processors: SpanProcessor[];
  memoryExporter: InMemorySpanExporter | undefined;
}

function env(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A misconfigured environment is reported, not fatal: a service must still start without tracing. */
function warnEnv(message: string): void {
  process.emitWarning(message, { code: 'PLAT_TRACING_ENV' });
}

function exporterName(option: TracingOptions['exporter']): ExporterName | SpanExporter {
  if (option !== undefined) {
    if (typeof option === 'string' && !EXPORTER_NAMES.has(option)) {
      throw new TracingError(
        'INVALID_OPTIONS',
        `exporter must be one of otlp, console, memory, none or a SpanExporter (got "${option}")`,
      );
    }
    return option;
  }
  // OTEL_TRACES_EXPORTER is a comma-separated list; the first entry we know wins.
  const fromEnv = env('OTEL_TRACES_EXPORTER');
  if (fromEnv === undefined) return 'otlp';
  const names = fromEnv.split(',').map((name) => name.trim().toLowerCase());
  const known = names.find((name) => ENV_EXPORTER_NAMES.has(name));
  if (known === undefined) {
    warnEnv(
      `OTEL_TRACES_EXPORTER="${fromEnv}" names no supported exporter (otlp, console, none); using otlp`,
    );
    return 'otlp';
  }
  return known as ExporterName;
}

function otlpProtocol(option: OtlpProtocol | undefined): OtlpProtocol {
  if (option !== undefined) {
    if (!PROTOCOLS.has(option)) {
      throw new TracingError(
        'INVALID_OPTIONS',
        `otlp.protocol must be "http/protobuf" or "http/json" (got "${String(option)}")`,
      );
    }
    return option;
  }
  const fromEnv = env('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? env('OTEL_EXPORTER_OTLP_PROTOCOL');
  if (fromEnv === undefined) return 'http/protobuf';
  if (PROTOCOLS.has(fromEnv)) return fromEnv as OtlpProtocol;
  warnEnv(
    `OTLP protocol "${fromEnv}" is not supported (use http/protobuf or http/json); using http/protobuf`,
  );
  return 'http/protobuf';
}

function otlpExporter(options: OtlpExporterOptions): SpanExporter {
  if (options.url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch (cause) {
      throw new TracingError('INVALID_OPTIONS', `otlp.url is not a valid URL: "${options.url}"`, { cause });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TracingError('INVALID_OPTIONS', `otlp.url must be an http(s) URL (got "${parsed.protocol}")`);
    }
  }
  if (
    options.timeoutMillis !== undefined &&
    (!Number.isFinite(options.timeoutMillis) || options.timeoutMillis <= 0)
  ) {
    throw new TracingError('INVALID_OPTIONS', 'otlp.timeoutMillis must be a positive number');
  }
  // Unset fields are left out so the exporter reads OTEL_EXPORTER_OTLP_* itself.
  const config: { url?: string; headers?: Record<string, string>; timeoutMillis?: number } = {};
  if (options.url !== undefined) config.url = options.url;
  if (options.headers !== undefined) config.headers = options.headers;
  if (options.timeoutMillis !== undefined) config.timeoutMillis = options.timeoutMillis;
  return otlpProtocol(options.protocol) === 'http/json'
    ? new OtlpJsonExporter(config)
    : new OtlpProtobufExporter(config);
}

function batchConfig(batch: BatchOptions): BatchOptions {
  for (const [key, value] of Object.entries(batch)) {
    if (value !== undefined && (!Number.isInteger(value) || (value as number) <= 0)) {
      throw new TracingError(
        'INVALID_OPTIONS',
        `batch.${key} must be a positive integer (got ${String(value)})`,
      );
    }
  }
  const config: BatchOptions = {};
  for (const key of [
    'maxQueueSize',
    'maxExportBatchSize',
    'scheduledDelayMillis',
    'exportTimeoutMillis',
  ] as const) {
    const value = batch[key];
    if (value !== undefined) config[key] = value;
  }
  return config;
}

/**
 * Builds the export side: OTLP and custom exporters behind a batch processor (spans leave the
 * request path at once and go out in bulk); console and memory behind a simple processor, since
 * they are for development and tests where seeing a span immediately matters more.
 */
export function createExportPipeline(options: TracingOptions): ExportPipeline {
  const exporter = exporterName(options.exporter);
  const batch = batchConfig(options.batch ?? {});
  if (exporter === 'none') return { processors: [], memoryExporter: undefined };
  if (exporter === 'memory') {
    const memoryExporter = new InMemorySpanExporter();
    return { processors: [new SimpleSpanProcessor(memoryExporter)], memoryExporter };
  }
  if (exporter === 'console') {
    return { processors: [new SimpleSpanProcessor(new ConsoleSpanExporter())], memoryExporter: undefined };
  }
  const spanExporter = exporter === 'otlp' ? otlpExporter(options.otlp ?? {}) : exporter;
  return { processors: [new BatchSpanProcessor(spanExporter, batch)], memoryExporter: undefined };
}

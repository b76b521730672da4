import type { Attributes, Span, SpanKind, TracerProvider } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Resource } from '@opentelemetry/resources';
import type {
  InMemorySpanExporter,
  Sampler,
  SpanExporter,
  SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { FinishedResponse, HttpExchange } from '@plat/core';

/** Where finished spans go. */
export type ExporterName = 'otlp' | 'console' | 'memory' | 'none';

/** The two OTLP encodings over HTTP; Jaeger (1.35+) and the OpenTelemetry Collector accept both on port 4318. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** How spans are sent over OTLP/HTTP. Unset fields fall back to the standard `OTEL_EXPORTER_OTLP_*` variables. */
export interface OtlpExporterOptions {
  /**
   * The full traces URL. Falls back to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, then
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.
   * @default 'http://localhost:4318/v1/traces'
   */
  url?: string;
  /**
   * Payload encoding. Falls back to `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, then `OTEL_EXPORTER_OTLP_PROTOCOL`
   * (`grpc` is not supported: use a collector or Jaeger's 4318 port).
   * @default 'http/protobuf'
   */
  protocol?: OtlpProtocol;
  /** Extra request headers (an API key for a hosted backend). Falls back to `OTEL_EXPORTER_OTLP_HEADERS`. @default {} */
  headers?: Record<string, string>;
  /** How long one export may take. Falls back to `OTEL_EXPORTER_OTLP_TIMEOUT`. @default 10000 */
  timeoutMillis?: number;
}

/** Batch span processor tuning; unset fields fall back to the `OTEL_BSP_*` variables, then OpenTelemetry's defaults. */
export interface BatchOptions {
  /** Spans kept waiting for export; more are dropped (and counted by the SDK). @default 2048 */
  maxQueueSize?: number;
  /** Spans per export request. @default 512 */
  maxExportBatchSize?: number;
  /** Longest wait before a partial batch is sent. @default 5000 */
  scheduledDelayMillis?: number;
  /** How long one export may run before it is abandoned. @default 30000 */
  exportTimeoutMillis?: number;
}

/** Options of an instrumentation that can require a parent span. */
export interface ClientInstrumentationOptions {
  /**
   * Only trace calls made inside an existing span (a request, a job), so that connection checks and
   * background polling do not create root traces of their own.
   * @default false
   */
  requireParentSpan?: boolean;
}

/** Which libraries are traced automatically. Each is on unless set to `false`. */
export interface InstrumentationOptions {
  /**
   * Outgoing `http`/`https` requests (client spans). Inbound requests are traced by the framework
   * adapters; set `{ incoming: true }` only for apps that use no adapter, since patching Node's HTTP
   * server costs every request far more than the adapters do.
   * @default { outgoing: true, incoming: false }
   */
  http?: boolean | { outgoing?: boolean; incoming?: boolean };
  /** Outgoing `fetch()` and undici requests (client spans). @default true */
  fetch?: boolean;
  /** PostgreSQL through `pg` (query spans with the SQL text, never the parameter values). @default true */
  pg?: boolean | ClientInstrumentationOptions;
  /** Redis through node-redis v4/v5 (command spans; values of write commands are masked). @default true */
  redis?: boolean | ClientInstrumentationOptions;
  /**
   * More OpenTelemetry instrumentations to enable with the same provider, for example
   * `new FastifyOtelInstrumentation({ registerOnInitialization: true })` for per-hook Fastify spans.
   * @default []
   */
  extra?: Instrumentation[];
}

/** Options of `setupTracing`. Every field is optional; the standard `OTEL_*` variables fill the gaps. */
export interface TracingOptions {
  /** `service.name`. Falls back to `OTEL_SERVICE_NAME`, then `service.name` in `OTEL_RESOURCE_ATTRIBUTES`. @default 'unknown_service:node' */
  serviceName?: string;
  /** `service.version`. Falls back to `npm_package_version` (set by `npm run` / `pnpm run`). @default undefined */
  serviceVersion?: string;
  /** `deployment.environment.name` (production, staging...). Falls back to `NODE_ENV`. @default undefined */
  environment?: string;
  /** More resource attributes (`service.namespace`, `k8s.pod.name`...); explicit options above win. @default {} */
  resourceAttributes?: Attributes;
  /**
   * Where spans go: OTLP over HTTP, the console, memory (tests), nowhere, or your own exporter.
   * Falls back to `OTEL_TRACES_EXPORTER` (`otlp`, `console`, `none`).
   * @default 'otlp'
   */
  exporter?: ExporterName | SpanExporter;
  /** OTLP/HTTP settings, used when the exporter is `otlp`. @default {} */
  otlp?: OtlpExporterOptions;
  /**
   * Share of new traces to record, from 0 to 1, decided once per trace at its root; spans with a
   * parent follow the parent's decision (parent-based sampling), so traces are never cut in half.
   * Falls back to `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`.
   * @default 1
   */
  sampleRatio?: number;
  /** A sampler of your own; takes precedence over `sampleRatio`. @default undefined */
  sampler?: Sampler;
  /** Batch processor tuning for the `otlp` exporter and custom exporters. @default {} */
  batch?: BatchOptions;
  /** Automatic instrumentation of libraries; `false` turns all of it off. @default all on (see InstrumentationOptions) */
  instrumentations?: InstrumentationOptions | false;
  /** More span processors, run after the exporter's. @default [] */
  spanProcessors?: SpanProcessor[];
}

/** What `setupTracing` returns. */
export interface TracingHandle {
  /** False when `OTEL_SDK_DISABLED=true`: nothing was registered and every span is a no-op. */
  readonly enabled: boolean;
  /** The registered provider, or undefined when disabled. */
  readonly provider: NodeTracerProvider | undefined;
  /** The resource every span carries (service name, version, environment...), to reuse for metrics or logs. */
  readonly resource: Resource | undefined;
  /** With `exporter: 'memory'`, the exporter holding finished spans (`getFinishedSpans()`, `reset()`). */
  readonly memoryExporter: InMemorySpanExporter | undefined;
  /** Exports every finished span now. Never rejects: a failed export is reported as a process warning. */
  forceFlush(): Promise<void>;
  /**
   * Flushes pending spans, stops the instrumentations and unregisters the global provider, context
   * manager and propagator, so `setupTracing` may be called again. Safe to call more than once;
   * never rejects (a failed final export is reported as a process warning).
   */
  shutdown(): Promise<void>;
}

/** The response header carrying the trace id back to the caller. */
export type TraceResponseHeader = 'traceresponse' | 'x-trace-id';

/** Options of the inbound request tracing middleware (`traceRequests` in each adapter). */
export interface RequestTracingOptions {
  /** Requests to leave untraced, for example health probes. @default undefined (trace every request) */
  skip?: (exchange: HttpExchange) => boolean;
  /**
   * Send the trace id back: `traceresponse` (W3C Trace Context level 2: `00-<trace>-<span>-<flags>`)
   * or `x-trace-id` (the bare trace id). Off by default so nothing new leaks to callers.
   * @default false
   */
  responseHeader?: false | TraceResponseHeader;
  /**
   * Request headers to record as `http.request.header.<name>` on sampled spans. Credential headers
   * (authorization, cookie, API keys) are refused.
   * @default []
   */
  requestHeaders?: readonly string[];
  /** Response headers to record as `http.response.header.<name>` on sampled spans. @default [] */
  responseHeaders?: readonly string[];
  /**
   * Record the query string as `url.query`. Off by default because query strings often carry tokens.
   * @default false
   */
  captureQuery?: boolean;
  /** Called when a sampled server span starts, to add attributes of your own. @default undefined */
  onRequest?: (span: Span, exchange: HttpExchange) => void;
  /** Called just before a sampled server span ends. @default undefined */
  onResponse?: (span: Span, exchange: HttpExchange, response: FinishedResponse) => void;
  /** Use this provider instead of the global one (set by `setupTracing`). @default the global provider */
  tracerProvider?: TracerProvider;
}

/** Options of `withSpan` and `@traced` besides attributes. */
export interface SpanStartOptions {
  /** The span kind. @default SpanKind.INTERNAL */
  kind?: SpanKind;
  /** Start a new trace instead of a child of the active span. @default false */
  root?: boolean;
}

/** Options of the `@traced()` decorator. */
export interface TracedOptions extends SpanStartOptions {
  /** Span name. @default '<ClassName>.<methodName>' */
  name?: string;
  /** Attributes set on every span of this method. @default {} */
  attributes?: Attributes;
}

/** The ids of the active span, for logs, error reports and messages. */
export interface TraceIds {
  /** 32 lower-case hex characters. */
  traceId: string;
  /** 16 lower-case hex characters. */
  spanId: string;
  /** Whether this trace is being recorded and exported. */
  sampled: boolean;
  /** The W3C `traceparent` value for this span: `00-<traceId>-<spanId>-<flags>`. */
  traceparent: string;
}

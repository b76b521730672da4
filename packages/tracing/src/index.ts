export { TracingError, TracingErrorCode } from './errors';
export { createRequestTracing, recordRequestError } from './request-tracing';
export { setupTracing } from './setup';
export { addEvent, currentSpan, recordError, setAttributes, traced, withSpan } from './spans';
export {
  continueTrace,
  currentSpanId,
  currentTraceId,
  currentTraceIds,
  injectTraceHeaders,
} from './trace-ids';
export type {
  BatchOptions,
  ClientInstrumentationOptions,
  ExporterName,
  InstrumentationOptions,
  OtlpExporterOptions,
  OtlpProtocol,
  RequestTracingOptions,
  SpanStartOptions,
  TracedOptions,
  TraceIds,
  TraceResponseHeader,
  TracingHandle,
  TracingOptions,
} from './types';

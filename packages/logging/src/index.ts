export type { DestinationStats } from './buffered-destination';
export { LoggingError, LoggingErrorCode } from './errors';
export { GCP_SEVERITY, LEVEL_VALUES } from './levels';
export { createLogger } from './logger';
export { levelForStatus, requestLogger } from './request-logger';
export { ECS_VERSION } from './shapes';
export { activeSpanIds, type SpanIds } from './trace-ids';
export {
  BufferedTransport,
  createBufferedTransport,
  createMemoryTransport,
  DIRECT_LOG,
  MemoryTransport,
} from './transports';
export type {
  BufferedTransportOptions,
  Destination,
  HttpLine,
  LogFields,
  LogFormat,
  Logger,
  LoggerOptions,
  LogLevel,
  LogMethod,
  RedactOptions,
  RequestLoggingOptions,
} from './types';
export { type PlatFormatOptions, platFormat } from './winston-format';

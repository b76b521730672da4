import type { FinishedResponse, HttpExchange } from '@plat/core';
import type winston from 'winston';
import type TransportStream from 'winston-transport';

/** Log levels, most severe first. `fatal` is for the last line before a crash. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Output formats:
 * - `json`: one JSON object per line (`timestamp`, `level`, `message`, context and trace ids, fields);
 * - `gcp`: Google Cloud Logging structured JSON (`severity`, `logging.googleapis.com/trace`, `httpRequest`);
 * - `ecs`: Elastic Common Schema (`@timestamp`, `log.level`, `ecs.version`, `trace.id`, `span.id`);
 * - `pretty`: a readable, optionally coloured line for local development (not JSON).
 */
export type LogFormat = 'json' | 'gcp' | 'ecs' | 'pretty';

/** Structured fields attached to one line or bound to a child logger. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * One logging method: `logger.info('message', fields?)`, `logger.error('message', error)`,
 * `logger.error(error, fields?)` (the error's message becomes the line's message), or
 * `logger.info(fields, 'message')`.
 */
export interface LogMethod {
  (message: string, fields?: LogFields | Error): void;
  (error: Error, fields?: LogFields): void;
  (fields: LogFields, message?: string): void;
}

/** A structured logger. Never throws: a line that cannot be written is reported, never raised. */
export interface Logger {
  /** The threshold; lines below it are dropped before any work. Shared with every child. */
  level: LogLevel;
  readonly fatal: LogMethod;
  readonly error: LogMethod;
  readonly warn: LogMethod;
  readonly info: LogMethod;
  readonly debug: LogMethod;
  readonly trace: LogMethod;
  /** Writes a line at a level chosen at run time. */
  log(level: LogLevel, message: string, fields?: LogFields | Error): void;
  /** True when a line at `level` would be written (use it to skip building costly fields). */
  isLevelEnabled(level: LogLevel): boolean;
  /** A logger that adds `bindings` to every line; it shares transports and level with its parent. */
  child(bindings: LogFields): Logger;
  /** The winston logger underneath, to add or remove transports. */
  readonly winston: winston.Logger;
  /** Resolves once every line logged so far has been handed to the operating system. */
  flush(): Promise<void>;
  /** Flushes, then closes the transports; lines logged afterwards are dropped and reported once. */
  close(): Promise<void>;
}

/** What redaction hides. Key names are compared ignoring case, `-`, `_` and `.`. */
export interface RedactOptions {
  /**
   * Extra paths to hide, relative to the line's fields: `user.ssn`, `cards[*].number`,
   * `*.secretAnswer`, `headers["x-internal"]`. `*` matches one key or array index.
   * @default []
   */
  paths?: readonly string[];
  /**
   * Extra key names hidden wherever they appear (strings match exactly after normalising; regular
   * expressions are tested against the raw key).
   * @default []
   */
  keys?: ReadonlyArray<string | RegExp>;
  /**
   * Hide the built-in key names: authorization, cookie, set-cookie, password, passphrase, secret,
   * api key, private key, credentials, auth, jwt and any key ending in `token`.
   * @default true
   */
  defaultKeys?: boolean;
  /**
   * Hide values shaped like @plat API keys wherever they appear in a string (keeping the prefix and
   * key id, so the line still says which key was used).
   * @default true
   */
  apiKeys?: boolean;
  /**
   * Hide JSON Web Tokens and the password part of URLs (`postgres://user:[REDACTED]@host`) inside strings.
   * @default true
   */
  defaultPatterns?: boolean;
  /** Extra patterns hidden inside every string; each match is replaced by `censor`. @default [] */
  patterns?: readonly RegExp[];
  /** The replacement value. @default '[REDACTED]' */
  censor?: string;
}

/** Where a buffered transport writes. A string other than `stdout` / `stderr` is a file path. */
export type Destination = 'stdout' | 'stderr' | number | string;

/** Options of the buffered, non-blocking transport (`createBufferedTransport`). */
export interface BufferedTransportOptions {
  /** `stdout`, `stderr`, a file descriptor or a file path (appended to, created with its folders). @default 'stdout' */
  destination?: Destination;
  /**
   * Bytes gathered before a write is started; fewer, larger writes are what makes logging cheap.
   * @default 4096 (0 when the destination is a terminal)
   */
  minLength?: number;
  /** A partial buffer is written after this long, so quiet services still log promptly. @default 50 */
  flushIntervalMs?: number;
  /**
   * Most bytes held while the destination is slower than the service; beyond it new lines are dropped
   * and counted (reported once) instead of exhausting memory.
   * @default 67108864 (64 MiB)
   */
  maxBufferBytes?: number;
  /** Lowest level this transport writes; defaults to the logger's level. */
  level?: LogLevel;
  /** Called once per failure kind instead of printing to stderr. */
  onError?: (error: Error) => void;
}

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** Threshold level. @default process.env.LOG_LEVEL when valid, else 'info' */
  level?: LogLevel;
  /** Output format. @default process.env.LOG_FORMAT when valid, else 'json' */
  format?: LogFormat;
  /** Fields added to every line (service name, version, region). @default {} */
  fields?: LogFields;
  /** Redaction settings, or `false` to turn redaction off (lines are still made JSON-safe). @default {} */
  redact?: RedactOptions | false;
  /** Add request id, principal id and tenant id from the @plat request context. @default true */
  context?: boolean;
  /** Add trace id, span id and trace flags of the active OpenTelemetry span. @default true */
  trace?: boolean;
  /**
   * Google Cloud project id for `logging.googleapis.com/trace` in the `gcp` format.
   * @default process.env.GOOGLE_CLOUD_PROJECT ?? process.env.GCLOUD_PROJECT ?? process.env.GCP_PROJECT
   */
  gcpProjectId?: string;
  /** Colour the `pretty` format. @default true when stdout is a terminal and NO_COLOR is unset */
  colors?: boolean;
  /** Nested objects deeper than this are written as `[Object]` / `[Array]`. @default 10 */
  maxDepth?: number;
  /**
   * Winston transports. @default one buffered transport to `destination`
   */
  transports?: readonly TransportStream[];
  /** Where the default buffered transport writes (ignored when `transports` is given). @default 'stdout' */
  destination?: Destination;
  /**
   * Log uncaught exceptions and unhandled rejections as a `fatal` line before the process exits
   * (observes only: never changes whether or how the process exits).
   * @default true
   */
  logUncaught?: boolean;
  /**
   * Receives failures (a transport that errors, a line that cannot be serialised); each source is
   * reported once. The default prints one line to stderr.
   */
  onError?: (error: Error) => void;
}

/** Options of the request logging middleware. */
export interface RequestLoggingOptions {
  /** The logger request lines are written to. */
  logger: Logger;
  /** Return true to leave a request out (health probes, say); called when the response is done. */
  skip?: (exchange: HttpExchange, response: FinishedResponse) => boolean;
  /** The level of a request line. @default 'error' for 5xx, 'warn' for 4xx and aborted requests, else 'info' */
  level?: (status: number, response: FinishedResponse) => LogLevel;
  /** Response header echoing the request id, or `false` for none. @default 'x-request-id' */
  requestIdHeader?: string | false;
  /** Extra fields for the request line, read when the response is done. */
  fields?: (exchange: HttpExchange) => LogFields | undefined;
}

/** What a request line carries; each format maps it to its own field names. */
export interface HttpLine {
  method: string;
  /** The route template (`/items/:id`), when a route matched. */
  route: string | undefined;
  /** The path without the query string (query strings are never logged: they carry tokens). */
  path: string;
  status: number;
  durationMs: number;
  bytes: number | undefined;
  userAgent: string | undefined;
  remoteAddress: string | undefined;
  protocol: string | undefined;
  aborted: boolean;
}

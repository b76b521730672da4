/**
 * `createLogger`: a winston 3 logger whose lines are built in one pass (level check first, request
 * context and span read once, fields redacted and made JSON-safe while copied into the record) and
 * serialised once by the format, then written by winston's transports.
 */
import { currentContext, type RequestContext } from '@plat/core';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import { LoggingError } from './errors';
import { createFailureReporter, printFailure, type ReportFailure } from './failure-report';
import { isLogLevel, LEVEL_VALUES } from './levels';
import { type Bindings, defaultLevel, LineBuilder } from './line-builder';
import { isError } from './sanitize';
import { type Info, LEVEL, MESSAGE } from './shapes';
import { activeSpanIds, type SpanIds } from './trace-ids';
import { BufferedTransport, DIRECT_LOG } from './transports';
import type { HttpLine, LogFields, Logger, LoggerOptions, LogLevel, LogMethod } from './types';

const noop = (): void => {};
const GUARDED = Symbol('@plat/logging.guarded');

/** Lets the request logger write a line with a context and span captured earlier. */
export const WRITE_WITH = Symbol('@plat/logging.writeWith');

/** A context and span captured when a request started, for a line written when it ends. */
export interface CapturedScope {
  context: RequestContext | undefined;
  span: SpanIds | undefined;
}

/** What a logger and all its children share. */
class LoggerCore {
  threshold: number;
  levelName: LogLevel;
  readonly winston: winston.Logger;
  readonly builder: LineBuilder;
  readonly withContext: boolean;
  readonly withTrace: boolean;
  readonly report: ReportFailure;
  closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: LoggerOptions) {
    const {
      level = defaultLevel(),
      context = true,
      trace = true,
      destination = 'stdout',
      onError = printFailure,
    } = options;
    if (!isLogLevel(level))
      throw new LoggingError('INVALID_OPTIONS', `level: "${String(level)}" is not a level`);
    this.levelName = level;
    this.threshold = LEVEL_VALUES[level];
    this.builder = new LineBuilder(options);
    this.withContext = context;
    this.withTrace = trace;
    this.report = createFailureReporter(onError);
    const transports = options.transports ?? [new BufferedTransport({ destination, onError })];
    this.winston = winston.createLogger({
      levels: LEVEL_VALUES,
      level,
      format: { transform: (info) => this.#render(info as Info) as winston.Logform.TransformableInfo },
    });
    // Transports added now or later (`logger.winston.add`) are guarded, so one that throws in
    // `log` cannot break winston's pipe for the others.
    const add = this.winston.add.bind(this.winston);
    this.winston.add = (transport: TransportStream) => add(this.#guard(transport));
    for (const transport of transports) this.winston.add(transport);
    // winston re-emits transport errors on the logger, and an unhandled 'error' event would crash
    // the process. Winston stops writing to the failed transport; the others go on.
    this.winston.on('error', (error: unknown, transport?: object) => {
      this.report(
        transport ?? this.winston,
        new LoggingError('TRANSPORT_FAILED', `transport ${transport?.constructor.name ?? ''} failed`.trim(), {
          cause: error,
        }),
      );
    });
  }

  #guard(transport: TransportStream): TransportStream {
    const guarded = transport as TransportStream & { [GUARDED]?: true; [DIRECT_LOG]?: boolean };
    if (guarded[GUARDED] === true || guarded[DIRECT_LOG] === true || typeof transport.log !== 'function')
      return transport;
    const log = transport.log;
    const report = this.report;
    guarded.log = function guardedLog(this: TransportStream, info: unknown, next: () => void) {
      try {
        return log.call(this, info, next);
      } catch (cause) {
        report(
          transport,
          new LoggingError('TRANSPORT_FAILED', `transport ${transport.constructor.name} failed`, { cause }),
        );
        next();
        return undefined;
      }
    };
    guarded[GUARDED] = true;
    return transport;
  }

  setLevel(level: LogLevel): void {
    if (!isLogLevel(level))
      throw new LoggingError('INVALID_OPTIONS', `level: "${String(level)}" is not a level`);
    this.levelName = level;
    this.threshold = LEVEL_VALUES[level];
    this.winston.level = level;
  }

  bind(fields: LogFields): Bindings {
    return this.builder.bind(fields);
  }

  write(
    level: LogLevel,
    first: unknown,
    second: unknown,
    bindings: Bindings,
    scope: CapturedScope | undefined,
    http: HttpLine | undefined,
  ): void {
    if (this.closed) {
      this.report(this, new LoggingError('LOGGER_CLOSED', 'a line was logged after close(); it was dropped'));
      return;
    }
    let message: string;
    let fields: LogFields | undefined;
    let error: Error | undefined;
    if (typeof first === 'string') {
      message = first;
      if (isError(second)) error = second;
      else if (typeof second === 'object' && second !== null) fields = second as LogFields;
    } else if (isError(first)) {
      error = first;
      message = typeof first.message === 'string' ? first.message : '';
      if (typeof second === 'object' && second !== null) fields = second as LogFields;
    } else if (typeof first === 'object' && first !== null) {
      fields = first as LogFields;
      message = typeof second === 'string' ? second : '';
    } else {
      message = first === undefined ? '' : String(first);
    }
    const context = scope !== undefined ? scope.context : this.withContext ? currentContext() : undefined;
    const span = scope !== undefined ? scope.span : this.withTrace ? activeSpanIds() : undefined;
    let info: Info;
    try {
      info = this.builder.build(level, message, fields, error, bindings, context, span, http);
    } catch (cause) {
      // A throwing getter or toJSON in the fields: still write the line, without them.
      this.report(this, new LoggingError('SERIALIZE_FAILED', 'a line could not be serialised', { cause }));
      info = this.builder.fallback(level, message, context, span, cause);
    }
    this.#dispatch(level, info);
  }

  /**
   * Hands the line to the transports. When every transport is one of ours (which finish `log`
   * synchronously and need no stream backpressure), the line goes straight to their `log`, applying
   * winston's own rules (silent, per-transport level); otherwise through winston's stream pipeline.
   */
  #dispatch(level: LogLevel, info: Info): void {
    const logger = this.winston;
    const transports = logger.transports;
    let direct = transports.length > 0;
    for (let i = 0; i < transports.length; i++) {
      const transport = transports[i] as TransportStream & { [DIRECT_LOG]?: boolean };
      if (transport[DIRECT_LOG] !== true || transport.format !== undefined) {
        direct = false;
        break;
      }
    }
    if (!direct) {
      logger.write(info as winston.LogEntry);
      return;
    }
    if (logger.silent) return;
    this.#render(info);
    const value = LEVEL_VALUES[level];
    for (let i = 0; i < transports.length; i++) {
      const transport = transports[i] as TransportStream;
      if (transport.silent) continue;
      const threshold = LEVEL_VALUES[(transport.level ?? this.levelName) as LogLevel];
      if (threshold !== undefined && threshold < value) continue;
      transport.log?.(info, noop);
    }
  }

  /** The winston format: one serialisation of the record built by `write`. */
  #render(info: Info): Info {
    if (info[MESSAGE] !== undefined) return info;
    try {
      info[MESSAGE] = this.builder.shape.render(info);
    } catch (cause) {
      // Only something `write` did not build can get here (a `logger.winston.log(...)` call).
      this.report(this, new LoggingError('SERIALIZE_FAILED', 'a line could not be serialised', { cause }));
      info[MESSAGE] = JSON.stringify({ level: info[LEVEL], message: String(info.message) });
    }
    return info;
  }

  async flush(): Promise<void> {
    await Promise.all(
      this.winston.transports.map((transport) => {
        const flush = (transport as { flush?: () => Promise<void> }).flush;
        return typeof flush === 'function' ? flush.call(transport).catch(() => undefined) : undefined;
      }),
    );
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.flush();
    this.closed = true;
    unwatchUncaught(this);
    const transports = [...this.winston.transports];
    this.winston.clear();
    await Promise.all(
      transports.map(async (transport) => {
        try {
          await (transport as { close?: () => unknown }).close?.();
        } catch {
          // Closing is best effort; the lines were flushed above.
        }
      }),
    );
  }
}

class PlatLogger implements Logger {
  readonly #core: LoggerCore;
  readonly #bindings: Bindings;
  readonly fatal: LogMethod;
  readonly error: LogMethod;
  readonly warn: LogMethod;
  readonly info: LogMethod;
  readonly debug: LogMethod;
  readonly trace: LogMethod;

  constructor(core: LoggerCore, bindings: Bindings) {
    this.#core = core;
    this.#bindings = bindings;
    this.fatal = this.#method('fatal');
    this.error = this.#method('error');
    this.warn = this.#method('warn');
    this.info = this.#method('info');
    this.debug = this.#method('debug');
    this.trace = this.#method('trace');
  }

  #method(level: LogLevel): LogMethod {
    const value = LEVEL_VALUES[level];
    const core = this.#core;
    const bindings = this.#bindings;
    return ((first: unknown, second?: unknown) => {
      if (value > core.threshold) return;
      try {
        core.write(level, first, second, bindings, undefined, undefined);
      } catch (cause) {
        core.report(core, new LoggingError('TRANSPORT_FAILED', 'a line could not be written', { cause }));
      }
    }) as LogMethod;
  }

  get level(): LogLevel {
    return this.#core.levelName;
  }

  set level(level: LogLevel) {
    this.#core.setLevel(level);
  }

  get winston(): winston.Logger {
    return this.#core.winston;
  }

  log(level: LogLevel, message: string, fields?: LogFields | Error): void {
    const value = LEVEL_VALUES[level];
    if (value === undefined || value > this.#core.threshold) return;
    try {
      this.#core.write(level, message, fields, this.#bindings, undefined, undefined);
    } catch (cause) {
      this.#core.report(
        this.#core,
        new LoggingError('TRANSPORT_FAILED', 'a line could not be written', { cause }),
      );
    }
  }

  isLevelEnabled(level: LogLevel): boolean {
    const value = LEVEL_VALUES[level];
    return value !== undefined && value <= this.#core.threshold;
  }

  child(bindings: LogFields): Logger {
    let own: Bindings;
    try {
      own = this.#core.bind(bindings);
    } catch (cause) {
      this.#core.report(
        this.#core,
        new LoggingError('SERIALIZE_FAILED', 'child bindings could not be serialised', { cause }),
      );
      own = [];
    }
    if (this.#bindings.length === 0) return new PlatLogger(this.#core, own);
    const merged = new Map<string, unknown>(this.#bindings.map(([key, value]) => [key, value]));
    for (const [key, value] of own) merged.set(key, value);
    return new PlatLogger(this.#core, [...merged]);
  }

  flush(): Promise<void> {
    return this.#core.flush();
  }

  close(): Promise<void> {
    return this.#core.close();
  }

  /** Writes a line with a context and span captured earlier (used by the request logger). */
  [WRITE_WITH](
    level: LogLevel,
    message: string,
    fields: LogFields | undefined,
    scope: CapturedScope,
    http: HttpLine,
  ) {
    if (LEVEL_VALUES[level] > this.#core.threshold) return;
    try {
      this.#core.write(level, message, fields, this.#bindings, scope, http);
    } catch (cause) {
      this.#core.report(
        this.#core,
        new LoggingError('TRANSPORT_FAILED', 'a line could not be written', { cause }),
      );
    }
  }

  /** Logs an uncaught exception as a fatal line (the exit hook then flushes it). */
  logUncaught(error: unknown, origin: string): void {
    const message = origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception';
    if (isError(error)) this.fatal(message, error);
    else this.fatal(message, { reason: error });
  }
}

// One process listener for every logger that logs uncaught exceptions, held weakly so that a
// logger nobody references can still be collected.
const watching = new Set<WeakRef<PlatLogger>>();
const cores = new WeakMap<LoggerCore, WeakRef<PlatLogger>>();
let monitorInstalled = false;

function onUncaught(error: unknown, origin: string): void {
  for (const ref of watching) {
    const logger = ref.deref();
    if (logger === undefined) watching.delete(ref);
    else logger.logUncaught(error, origin);
  }
}

function watchUncaught(core: LoggerCore, logger: PlatLogger): void {
  const ref = new WeakRef(logger);
  watching.add(ref);
  cores.set(core, ref);
  if (!monitorInstalled) {
    monitorInstalled = true;
    process.on('uncaughtExceptionMonitor', onUncaught);
  }
}

function unwatchUncaught(core: LoggerCore): void {
  const ref = cores.get(core);
  if (ref !== undefined) watching.delete(ref);
}

/**
 * Creates a structured logger on winston 3. Every line carries the request id, principal and tenant
 * of the current @plat request context and the ids of the active OpenTelemetry span, with secrets
 * redacted, in the chosen format.
 *
 * @example
 * ```ts
 * const logger = createLogger({ format: 'json', fields: { service: 'workflows' } });
 * logger.info('workflow started', { workflowId: 'wf_1', password: 'hunter2' });
 * // {"timestamp":"…","level":"info","message":"workflow started","request_id":"…","trace_id":"…",
 * //  "service":"workflows","workflowId":"wf_1","password":"[REDACTED]"}
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const core = new LoggerCore(options);
  let bindings: Bindings = [];
  if (options.fields !== undefined) bindings = core.bind(options.fields);
  const logger = new PlatLogger(core, bindings);
  if (options.logUncaught !== false) watchUncaught(core, logger);
  return logger;
}

/** True for loggers made by `createLogger` (and their children). */
export function isPlatLogger(logger: Logger): logger is Logger & Pick<PlatLogger, typeof WRITE_WITH> {
  return logger instanceof PlatLogger;
}

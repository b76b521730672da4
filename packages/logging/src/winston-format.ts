/**
 * `platFormat`: the same records as `createLogger`, as a winston format for an existing winston
 * logger (context, trace ids, redaction and the cloud formats, without changing how you log).
 */
import { currentContext } from '@plat/core';
import type winston from 'winston';
import { LineBuilder, type LineOptions } from './line-builder';
import { isError } from './sanitize';
import { type Info, LEVEL, MESSAGE } from './shapes';
import { activeSpanIds } from './trace-ids';
import type { LogFields, LogLevel } from './types';

/** Options of `platFormat`. */
export interface PlatFormatOptions extends LineOptions {
  /** Add request id, principal id and tenant id from the @plat request context. @default true */
  context?: boolean;
  /** Add trace id, span id and trace flags of the active OpenTelemetry span. @default true */
  trace?: boolean;
  /** Fields added to every line. @default {} */
  fields?: LogFields;
}

/**
 * A winston format producing @plat/logging records. Context and span are read when the format runs,
 * which for winston's default (synchronous) pipeline is when you log.
 *
 * @example
 * ```ts
 * const logger = winston.createLogger({
 *   format: platFormat({ format: 'gcp' }),
 *   transports: [new winston.transports.Console()],
 * });
 * ```
 */
export function platFormat(options: PlatFormatOptions = {}): winston.Logform.Format {
  const builder = new LineBuilder(options);
  const bindings = options.fields === undefined ? [] : builder.bind(options.fields);
  const { context = true, trace = true } = options;
  return {
    options,
    transform(input) {
      const info = input as Info;
      const level = String(info[LEVEL] ?? info.level) as LogLevel;
      let error: Error | undefined;
      let message: unknown = info.message;
      if (isError(message)) {
        error = message;
        message = message.message;
      } else if (isError(info)) error = info;
      const fields: Record<string, unknown> = {};
      for (const key of Object.keys(info)) if (key !== 'level' && key !== 'message') fields[key] = info[key];
      let out: Info;
      const ctx = context ? currentContext() : undefined;
      const span = trace ? activeSpanIds() : undefined;
      try {
        out = builder.build(level, String(message ?? ''), fields, error, bindings, ctx, span, undefined);
      } catch (cause) {
        out = builder.fallback(level, String(message ?? ''), ctx, span, cause);
      }
      out[LEVEL] = info[LEVEL] ?? level;
      out[MESSAGE] = builder.shape.render(out);
      return out as winston.Logform.TransformableInfo;
    },
  };
}

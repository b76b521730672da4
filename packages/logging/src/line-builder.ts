/**
 * Builds the record of a line: the format's own fields, then bound fields, then the line's fields,
 * each redacted and made JSON-safe as it is copied. Shared by `createLogger` and `platFormat`.
 */
import type { RequestContext } from '@plat/core';
import { LoggingError } from './errors';
import { isLogLevel } from './levels';
import { compileRedaction } from './redaction';
import { Sanitizer, setField } from './sanitize';
import { type Info, type Shape, shapeOf } from './shapes';
import type { SpanIds } from './trace-ids';
import type { HttpLine, LogFields, LogFormat, LoggerOptions, LogLevel } from './types';

export const FORMATS: readonly LogFormat[] = ['json', 'gcp', 'ecs', 'pretty'];

/** Bound fields, already redacted: copied as they are into every line. */
export type Bindings = ReadonlyArray<readonly [string, unknown]>;

/** The options that decide how a line looks. */
export type LineOptions = Pick<LoggerOptions, 'format' | 'redact' | 'gcpProjectId' | 'colors' | 'maxDepth'>;

/** The default format: `LOG_FORMAT` when it names one, else json. */
export function defaultFormat(): LogFormat {
  const fromEnv = process.env.LOG_FORMAT as LogFormat | undefined;
  return fromEnv !== undefined && FORMATS.includes(fromEnv) ? fromEnv : 'json';
}

/** The default level: `LOG_LEVEL` when it names one, else info. */
export function defaultLevel(): LogLevel {
  const fromEnv = process.env.LOG_LEVEL;
  return isLogLevel(fromEnv) ? fromEnv : 'info';
}

export class LineBuilder {
  readonly shape: Shape;
  readonly sanitizer: Sanitizer;

  constructor(options: LineOptions) {
    const {
      format = defaultFormat(),
      redact = {},
      gcpProjectId = process.env.GOOGLE_CLOUD_PROJECT ??
        process.env.GCLOUD_PROJECT ??
        process.env.GCP_PROJECT,
      colors = process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
      maxDepth = 10,
    } = options;
    if (!FORMATS.includes(format))
      throw new LoggingError(
        'INVALID_OPTIONS',
        `format: "${String(format)}" is not one of ${FORMATS.join(', ')}`,
      );
    if (!Number.isInteger(maxDepth) || maxDepth < 1)
      throw new LoggingError('INVALID_OPTIONS', 'maxDepth must be a positive integer');
    this.shape = shapeOf(format, { gcpProjectId, colors });
    this.sanitizer = new Sanitizer(compileRedaction(redact), maxDepth);
  }

  /** Redacts fields once, for a child logger or the logger's own `fields`. */
  bind(fields: LogFields): Bindings {
    const roots = this.sanitizer.rootPaths;
    const out: Array<readonly [string, unknown]> = [];
    for (const key of Object.keys(fields)) {
      const value = this.sanitizer.field(key, fields[key], roots, 1);
      if (value !== undefined) out.push([key, value]);
    }
    return out;
  }

  build(
    level: LogLevel,
    message: string,
    fields: LogFields | undefined,
    error: Error | undefined,
    bindings: Bindings,
    context: RequestContext | undefined,
    span: SpanIds | undefined,
    http: HttpLine | undefined,
  ): Info {
    const { sanitizer, shape } = this;
    const info = shape.head({
      level,
      message: sanitizer.string(message),
      context,
      span,
      error: error === undefined ? undefined : sanitizer.error(error, 1, []),
      http,
    });
    const reserved = shape.reserved;
    for (let i = 0; i < bindings.length; i++) {
      const [key, value] = bindings[i] as readonly [string, unknown];
      setField(info, reserved.has(key) && info[key] !== undefined ? `fields.${key}` : key, value);
    }
    if (fields !== undefined) {
      const roots = sanitizer.rootPaths;
      const keys = Object.keys(fields);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const value = sanitizer.field(key, fields[key], roots, 1);
        if (value === undefined) continue;
        setField(info, reserved.has(key) && info[key] !== undefined ? `fields.${key}` : key, value);
      }
    }
    return info;
  }

  /** The line without its fields, for when they cannot be serialised. */
  fallback(
    level: LogLevel,
    message: string,
    context: RequestContext | undefined,
    span: SpanIds | undefined,
    cause: unknown,
  ): Info {
    const info = this.shape.head({
      level,
      message: this.sanitizer.string(message),
      context,
      span,
      error: undefined,
      http: undefined,
    });
    info.serialize_error = this.sanitizer.string(cause instanceof Error ? cause.message : String(cause));
    return info;
  }
}

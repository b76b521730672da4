/**
 * Logging never throws into the caller: failures go to a reporter that tells each source about
 * each kind of failure once, so a broken disk does not turn into a flood on stderr.
 */
import type { LoggingError } from './errors';

/** Reports a failure of `source` (a transport, a destination, the logger) unless already reported. */
export type ReportFailure = (source: object, error: LoggingError) => void;

/** The default sink: one line on stderr, never throwing. */
export function printFailure(error: Error): void {
  try {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    process.stderr.write(`@plat/logging: ${error.message}${detail}\n`);
  } catch {
    // Nowhere left to report to.
  }
}

/**
 * A reporter calling `onError` once per source and code.
 *
 * @example
 * ```ts
 * const report = createFailureReporter(printFailure);
 * report(transport, new LoggingError('WRITE_FAILED', 'cannot write /var/log/app.log'));
 * ```
 */
export function createFailureReporter(onError: (error: Error) => void): ReportFailure {
  const seen = new WeakMap<object, Set<string>>();
  return (source, error) => {
    let codes = seen.get(source);
    if (codes === undefined) {
      codes = new Set();
      seen.set(source, codes);
    }
    if (codes.has(error.code)) return;
    codes.add(error.code);
    try {
      onError(error);
    } catch {
      // A throwing error handler must not break logging either.
    }
  };
}

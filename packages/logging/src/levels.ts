import type { LogLevel } from './types';

/** Winston level table: lower is more severe. */
export const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = {
  fatal: 0,
  error: 1,
  warn: 2,
  info: 3,
  debug: 4,
  trace: 5,
};

export const LEVEL_NAMES: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/**
 * Google Cloud Logging `severity` for each level, including winston's npm and syslog level names
 * (for `platFormat` on a winston logger of your own).
 */
export const GCP_SEVERITY: Readonly<Record<string, string>> = {
  fatal: 'CRITICAL',
  error: 'ERROR',
  warn: 'WARNING',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'DEBUG',
  http: 'INFO',
  verbose: 'DEBUG',
  silly: 'DEBUG',
  emerg: 'EMERGENCY',
  alert: 'ALERT',
  crit: 'CRITICAL',
  warning: 'WARNING',
  notice: 'NOTICE',
};

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && Object.hasOwn(LEVEL_VALUES, value);
}

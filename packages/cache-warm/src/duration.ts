/** Durations given as milliseconds or as text (`'30s'`, `'15m'`, `'1h'`, `'1d'`). */
import { CacheWarmError } from './errors';
import type { Duration } from './types';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

/**
 * Milliseconds of `value`; throws `INVALID_OPTIONS` naming `option` when it is not a finite,
 * non-negative number or a `<number><ms|s|m|h|d>` text.
 */
export function toMs(value: Duration, option: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value);
    if (match !== null) return Number(match[1]) * UNITS[match[2]!]!;
  }
  throw new CacheWarmError(
    'INVALID_OPTIONS',
    `${option} must be a non-negative number of milliseconds or a text such as '30s', '15m', '1h'; got ${describe(value)}`,
    { details: { option } },
  );
}

/** Like `toMs`, with a default for undefined. */
export function optionalMs(value: Duration | undefined, fallback: number, option: string): number {
  return value === undefined ? fallback : toMs(value, option);
}

/** A short, safe description of a bad value for an error message (never the whole value). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}

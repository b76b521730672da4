/**
 * Checks on everything a caller hands to the manager (directly or through the REST routes): bad
 * input is a typed INVALID_INPUT error naming the field, never a crash or a corrupt row.
 */
import { ApiKeyError } from './errors';
import type { Quota, RateLimit } from './types';

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const SCOPE = /^[A-Za-z0-9_.:/*-]{1,100}$/;
const MAX_SCOPES = 100;
const MAX_TEXT = 200;
export const MAX_METADATA_BYTES = 8 * 1024;
const MAX_REASON = 500;
export const MAX_EXPIRES_IN_DAYS = 3650;
export const MAX_GRACE_SECONDS = 366 * 24 * 3600;
const DAY_MS = 24 * 3600 * 1000;

function invalid(field: string, rule: string): ApiKeyError {
  return new ApiKeyError('INVALID_INPUT', `${field} ${rule}`, { details: { field } });
}

/** A non-empty string of at most 200 characters, without control characters. */
export function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT || CONTROL.test(value)) {
    throw invalid(field, `must be a string of 1-${MAX_TEXT} characters without control characters`);
  }
  return value;
}

export function reason(value: unknown, field = 'reason'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > MAX_REASON) {
    throw invalid(field, `must be a string of at most ${MAX_REASON} characters`);
  }
  return value;
}

export function actor(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return text(value, 'actor');
}

export function scopes(value: unknown, field = 'scopes'): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_SCOPES) {
    throw invalid(field, `must be an array of at most ${MAX_SCOPES} scopes`);
  }
  const out: string[] = [];
  for (const scope of value) {
    if (typeof scope !== 'string' || !SCOPE.test(scope)) {
      throw invalid(field, 'must hold scopes of 1-100 characters of [A-Za-z0-9_.:/*-]');
    }
    if (scope.includes('*') && scope.indexOf('*') !== scope.length - 1) {
      throw invalid(field, 'may use * only at the end of a scope (workflows:*)');
    }
    if (!out.includes(scope)) out.push(scope);
  }
  return out;
}

/** Lifetime in ms from days; `null` means no expiry. */
export function lifetimeMs(value: unknown, field = 'expiresInDays'): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_EXPIRES_IN_DAYS) {
    throw invalid(field, `must be a number of days in (0, ${MAX_EXPIRES_IN_DAYS}], or null for no expiry`);
  }
  return Math.round(value * DAY_MS);
}

export function graceMs(value: unknown, field = 'graceSeconds'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_GRACE_SECONDS) {
    throw invalid(field, `must be a number of seconds in [0, ${MAX_GRACE_SECONDS}]`);
  }
  return Math.round(value * 1000);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The metadata as JSON text (a plain object, at most 8 KiB once serialised). */
export function metadataJson(value: unknown, field = 'metadata'): string {
  if (value === undefined) return '{}';
  if (!isPlainObject(value)) throw invalid(field, 'must be a plain JSON object');
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw new ApiKeyError('INVALID_INPUT', `${field} must be serialisable as JSON`, {
      cause,
      details: { field },
    });
  }
  if (Buffer.byteLength(json, 'utf8') > MAX_METADATA_BYTES) {
    throw invalid(field, `must be at most ${MAX_METADATA_BYTES} bytes as JSON`);
  }
  return json;
}

function integerIn(value: unknown, min: number, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer in [${min}, ${max}]`);
  }
  return value;
}

export function rateLimit(value: unknown, field = 'rateLimit'): RateLimit | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) throw invalid(field, 'must be { limit, windowSeconds }');
  return {
    limit: integerIn(value.limit, 1, 1_000_000_000, `${field}.limit`),
    windowSeconds: integerIn(value.windowSeconds, 1, 86_400, `${field}.windowSeconds`),
  };
}

export function quota(value: unknown, field = 'quota'): Quota | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) throw invalid(field, 'must be { limit, periodSeconds }');
  return {
    limit: integerIn(value.limit, 1, 1_000_000_000_000, `${field}.limit`),
    periodSeconds: integerIn(value.periodSeconds, 60, 31_622_400, `${field}.periodSeconds`),
  };
}

/** An object of the given fields only, for request bodies; anything else is rejected, not ignored. */
export function body(value: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalid('body', 'must be a JSON object');
  for (const field of Object.keys(value)) {
    if (!allowed.includes(field))
      throw invalid(field, `is not a known field (expected ${allowed.join(', ')})`);
  }
  return value;
}

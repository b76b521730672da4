import { PlatError } from '@plat/core';

/**
 * Error codes raised by @plat/apikeys. The first group doubles as the reasons `validate()` gives for
 * rejecting a key; the middleware answers them as problem+json with the same code.
 */
export const ApiKeyErrorCode = {
  /** The presented string is not a well-formed API key (shape or checksum); storage was not read. */
  MALFORMED: 'MALFORMED',
  /** No key matches: unknown key id, or the secret does not match the stored hash. */
  NOT_FOUND: 'NOT_FOUND',
  /** The key was revoked. */
  REVOKED: 'REVOKED',
  /** The key passed its expiry, or its rotation grace period ended. */
  EXPIRED: 'EXPIRED',
  /** The key lacks a scope the operation requires. */
  INSUFFICIENT_SCOPE: 'INSUFFICIENT_SCOPE',
  /** The key is disabled (reversibly) by an administrator. */
  DISABLED: 'DISABLED',
  /** The key exceeded its rate limit; retry after `retryAfterSeconds`. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The key used up its quota for the current period; it refills after `retryAfterSeconds`. */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /** The request carried no API key (`Authorization: Bearer` or `X-API-Key`). */
  MISSING_KEY: 'MISSING_KEY',
  /** Input to a management call (create, rotate, REST body) is invalid; the message names the field. */
  INVALID_INPUT: 'INVALID_INPUT',
  /** A management call named a key id that does not exist. */
  KEY_NOT_FOUND: 'KEY_NOT_FOUND',
  /** The key is not in a state that allows the operation (rotating a revoked key, say). */
  INVALID_STATE: 'INVALID_STATE',
  /** The key store (database) failed or is unreachable. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** The manager was closed; it no longer validates or manages keys. */
  CLOSED: 'CLOSED',
} as const;
export type ApiKeyErrorCode = (typeof ApiKeyErrorCode)[keyof typeof ApiKeyErrorCode];

/** The one error class of @plat/apikeys; match on `code`. Never carries a key or secret. */
export class ApiKeyError extends PlatError<ApiKeyErrorCode> {
  override readonly name = 'ApiKeyError';
}

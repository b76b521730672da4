/**
 * The one error base every @plat package extends. A package declares its codes as an `as const`
 * table and subclasses `PlatError` once; adapters map codes to HTTP statuses.
 */

/** Brand shared by every copy of @plat/core, so an error from a second installed copy is still recognised. */
const PLAT_ERROR_BRAND = Symbol.for('@plat/core.error');

export interface PlatErrorOptions {
  /** The underlying error, kept for logs and debugging (never serialised into HTTP answers). */
  cause?: unknown;
  /**
   * Structured, non-secret facts a caller can act on (an actual version, a retry delay, a field path).
   * They are included in problem+json answers, so they must never contain secrets or raw user input.
   */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * Base class of every error thrown by @plat packages.
 *
 * @example
 * ```ts
 * export const CacheErrorCode = { UNAVAILABLE: 'UNAVAILABLE', TIMEOUT: 'TIMEOUT' } as const;
 * export type CacheErrorCode = (typeof CacheErrorCode)[keyof typeof CacheErrorCode];
 * export class CacheError extends PlatError<CacheErrorCode> {
 *   override readonly name = 'CacheError';
 * }
 * throw new CacheError('TIMEOUT', 'Redis did not answer within 200 ms', { details: { timeoutMs: 200 } });
 * ```
 */
export class PlatError<Code extends string = string> extends Error {
  override readonly name: string = 'PlatError';
  readonly code: Code;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: Code, message: string, options: PlatErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    Object.defineProperty(this, PLAT_ERROR_BRAND, { value: true });
  }

  /** A JSON form without the stack or cause, safe to return to callers. */
  toJSON(): { name: string; code: Code; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details === undefined
      ? { name: this.name, code: this.code, message: this.message }
      : { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True for any error created by a @plat package, from this or another installed copy of @plat/core.
 * Pass `code` to also match a specific code.
 *
 * @example
 * ```ts
 * if (isPlatError(err, 'WRONG_EXPECTED_VERSION')) retry();
 * ```
 */
export function isPlatError<Code extends string = string>(
  value: unknown,
  code?: Code,
): value is PlatError<Code> {
  if (typeof value !== 'object' || value === null) return false;
  if (!(value instanceof PlatError) && (value as Record<symbol, unknown>)[PLAT_ERROR_BRAND] !== true)
    return false;
  return code === undefined || (value as PlatError).code === code;
}

/** Codes raised by @plat/core itself (request bodies and routing in the adapter bridges). */
export const CoreErrorCode = {
  /** The request body is not valid JSON, or not the declared content type. */
  INVALID_BODY: 'INVALID_BODY',
  /** The request body exceeds the configured limit. */
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  /** A route parameter is not valid percent-encoding. */
  INVALID_PATH: 'INVALID_PATH',
} as const;
export type CoreErrorCode = (typeof CoreErrorCode)[keyof typeof CoreErrorCode];

export class CoreError extends PlatError<CoreErrorCode> {
  override readonly name = 'CoreError';
}

/** HTTP statuses for @plat/core's own codes. */
export const coreErrorStatus: Readonly<Record<CoreErrorCode, number>> = {
  INVALID_BODY: 400,
  BODY_TOO_LARGE: 413,
  INVALID_PATH: 400,
};

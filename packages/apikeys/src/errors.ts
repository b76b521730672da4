import { PlatError } from '@plat/core';

/** Error codes raised by @plat/apikeys. */
export const ApiKeyErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
} as const;
export type ApiKeyErrorCode = (typeof ApiKeyErrorCode)[keyof typeof ApiKeyErrorCode];

/** The one error class of @plat/apikeys; match on `code`. */
export class ApiKeyError extends PlatError<ApiKeyErrorCode> {
  override readonly name = 'ApiKeyError';
}

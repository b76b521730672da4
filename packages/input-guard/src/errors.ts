import { PlatError } from '@plat/core';

/** Error codes raised by @plat/input-guard. */
export const InputGuardErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
} as const;
export type InputGuardErrorCode = (typeof InputGuardErrorCode)[keyof typeof InputGuardErrorCode];

/** The one error class of @plat/input-guard; match on `code`. */
export class InputGuardError extends PlatError<InputGuardErrorCode> {
  override readonly name = 'InputGuardError';
}

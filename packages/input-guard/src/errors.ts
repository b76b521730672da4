import { PlatError } from '@plat/core';

/** Error codes raised by @plat/input-guard. */
export const InputGuardErrorCode = {
  /** Options passed to a factory are invalid; the message names the option. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** A request failed validation; `details.issues` lists field paths and reason codes. */
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** Code failed the static code-safety check; `details.findings` lists rules and lines. */
  UNSAFE_CODE: 'UNSAFE_CODE',
  /** Sandboxed code ran past its time limit and was stopped. */
  SANDBOX_TIMEOUT: 'SANDBOX_TIMEOUT',
  /** Sandboxed code exceeded its memory limit and was stopped. */
  SANDBOX_MEMORY_LIMIT: 'SANDBOX_MEMORY_LIMIT',
  /** Sandboxed code threw, or returned something that is not JSON. */
  SANDBOX_ERROR: 'SANDBOX_ERROR',
  /** An upload is larger than allowed. */
  FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  /** An upload's content is not an allowed type, or is active content (HTML, SVG, scripts). */
  UNSUPPORTED_FILE_TYPE: 'UNSUPPORTED_FILE_TYPE',
  /** An upload's content, declared MIME type and extension disagree, or its name is unsafe. */
  UPLOAD_REJECTED: 'UPLOAD_REJECTED',
} as const;
export type InputGuardErrorCode = (typeof InputGuardErrorCode)[keyof typeof InputGuardErrorCode];

/** The one error class of @plat/input-guard; match on `code`. */
export class InputGuardError extends PlatError<InputGuardErrorCode> {
  override readonly name = 'InputGuardError';
}

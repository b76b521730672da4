// One import point for the tests: the package's public surface plus a check that errors are typed.
import { isPlatError } from '@plat/core';

export * from '../../src';

/** True when `value` is a @plat error with `code`. */
export function isPlatErrorLike(value: unknown, code: string): boolean {
  return isPlatError(value, code);
}

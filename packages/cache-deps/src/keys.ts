/** What a cache key and a namespace may be, checked once at the public surface. */
import { CacheError } from './errors';

/** Longest cache key accepted. */
export const MAX_KEY_LENGTH = 1024;
const CLOSING_BRACE = 125;
const NAMESPACE = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * Throws INVALID_KEY unless `key` is a usable cache key. A leading `}` is refused because Redis would
 * then hash the whole key instead of its `{tag}`, scattering one node's keys over several slots.
 */
export function assertKey(key: unknown, what = 'key'): asserts key is string {
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.length > MAX_KEY_LENGTH ||
    key.charCodeAt(0) === CLOSING_BRACE
  ) {
    throw new CacheError(
      'INVALID_KEY',
      `${what} must be a non-empty string of at most ${MAX_KEY_LENGTH} characters that does not start with '}'`,
    );
  }
}

/** Checks a list of keys (`dependsOn`, `invalidateMany`) and removes duplicates. */
export function checkKeys(keys: unknown, what: string): string[] {
  if (!Array.isArray(keys)) throw new CacheError('INVALID_OPTIONS', `${what} must be an array of keys`);
  for (const key of keys) assertKey(key, `every entry of ${what}`);
  return keys.length < 2 ? [...(keys as string[])] : [...new Set(keys as string[])];
}

/** Throws INVALID_OPTIONS unless `namespace` is safe inside Redis keys and SCAN patterns. */
export function assertNamespace(namespace: unknown): asserts namespace is string {
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new CacheError(
      'INVALID_OPTIONS',
      'namespace must be 1-100 characters of letters, digits, `_`, `.`, `:` or `-`',
    );
  }
}

import { CacheError } from './errors';
import type { Codec } from './types';

/**
 * The default codec: JSON text. `undefined`, functions and symbols cannot be stored (undefined is how
 * the cache says "miss"); `Date`s come back as strings, as with any JSON.
 *
 * @example
 * ```ts
 * const cache = createCache({ codec: jsonCodec });
 * ```
 */
export const jsonCodec: Codec = {
  encode(value: unknown): string {
    const text = JSON.stringify(value);
    if (typeof text !== 'string') throw new TypeError('value has no JSON form');
    return text;
  },
  decode(text: string): unknown {
    return JSON.parse(text);
  },
};

/** Encodes with the cache's codec; any failure becomes INVALID_VALUE (the value is never echoed). */
export function encodeValue(codec: Codec, value: unknown): string {
  if (value === undefined) throw new CacheError('INVALID_VALUE', 'undefined cannot be cached');
  let text: unknown;
  try {
    text = codec.encode(value);
  } catch (error) {
    throw new CacheError('INVALID_VALUE', 'the codec could not encode the value', { cause: error });
  }
  if (typeof text !== 'string') throw new CacheError('INVALID_VALUE', 'the codec must return a string');
  return text;
}

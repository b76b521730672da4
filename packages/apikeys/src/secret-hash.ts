/**
 * How secrets are kept: a keyed hash (HMAC-SHA-256 with a server-side pepper) at rest, compared in
 * constant time; and a fast unkeyed digest of the whole presented key, used only as the key of the
 * in-process validation cache so a hit needs no HMAC and keeps no plaintext.
 */
import * as crypto from 'node:crypto';
import { ApiKeyError } from './errors';

/** A pepper as configured: an id stored beside each hash, and at least 32 bytes of secret. */
export interface Pepper {
  /** Short stable id (`2025-01`), stored with every hash made with this pepper. */
  readonly id: string;
  /** The pepper itself: a string (UTF-8) or bytes, at least 32 bytes. Keep it out of the database. */
  readonly secret: string | Uint8Array;
}

const PEPPER_ID = /^[A-Za-z0-9._-]{1,32}$/;
export const MIN_PEPPER_BYTES = 32;

/** The peppers, ready to use: the first hashes new keys, all of them verify. */
export class PepperRing {
  readonly current: string;
  readonly #keys: Map<string, crypto.KeyObject>;

  constructor(peppers: readonly Pepper[]) {
    if (!Array.isArray(peppers) || peppers.length === 0) {
      throw new ApiKeyError('INVALID_OPTIONS', 'peppers must list at least one { id, secret } pepper');
    }
    this.#keys = new Map();
    for (const pepper of peppers) {
      if (typeof pepper?.id !== 'string' || !PEPPER_ID.test(pepper.id)) {
        throw new ApiKeyError('INVALID_OPTIONS', 'peppers[].id must be 1-32 characters of [A-Za-z0-9._-]');
      }
      if (this.#keys.has(pepper.id)) {
        throw new ApiKeyError('INVALID_OPTIONS', `peppers[].id "${pepper.id}" is listed twice`);
      }
      const bytes =
        typeof pepper.secret === 'string'
          ? Buffer.from(pepper.secret, 'utf8')
          : pepper.secret instanceof Uint8Array
            ? Buffer.from(pepper.secret)
            : undefined;
      if (bytes === undefined || bytes.length < MIN_PEPPER_BYTES) {
        // The message names the pepper by id only; never echo the secret.
        throw new ApiKeyError(
          'INVALID_OPTIONS',
          `pepper "${pepper.id}" must be a string or bytes of at least ${MIN_PEPPER_BYTES} bytes`,
        );
      }
      this.#keys.set(pepper.id, crypto.createSecretKey(bytes));
    }
    this.current = peppers[0]!.id;
  }

  has(id: string): boolean {
    return this.#keys.has(id);
  }

  /** HMAC-SHA-256 of `message` under the pepper `id` (the current one by default), base64url. */
  hash(message: string, id: string = this.current): string {
    const key = this.#keys.get(id);
    if (key === undefined) {
      throw new ApiKeyError('INVALID_STATE', `No pepper "${id}" is configured; add it to peppers`);
    }
    return crypto.createHmac('sha256', key).update(message, 'utf8').digest('base64url');
  }

  /**
   * Whether `message` hashes to `expected` under pepper `id`, compared in constant time. An unknown
   * pepper id is an error (the operator removed a pepper still in use), not a silent mismatch.
   */
  verify(message: string, expected: string, id: string): boolean {
    const actual = Buffer.from(this.hash(message, id), 'base64url');
    const stored = Buffer.from(expected, 'base64url');
    // Lengths are public (always 32 bytes); only the contents are compared in constant time.
    return actual.length === stored.length && crypto.timingSafeEqual(actual, stored);
  }
}

type HashFn = (algorithm: string, data: string, encoding: 'binary') => string;
const oneShot = (crypto as unknown as { hash?: HashFn }).hash;

/**
 * SHA-256 of the whole presented key as a 32-character binary string: the cache key. One-shot
 * `crypto.hash` (Node 20.12+) runs about 3x faster than a new HMAC object per call; older Node
 * falls back to `createHash`. Unkeyed is fine here: the input carries ~190 bits of secret, so the
 * digest reveals nothing, and a hit requires a second preimage of a cached key's digest.
 */
export const cacheDigest: (key: string) => string =
  oneShot === undefined
    ? (key) => crypto.createHash('sha256').update(key, 'utf8').digest('binary')
    : (key) => oneShot('sha256', key, 'binary');

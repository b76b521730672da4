/**
 * Issuing and parsing keys of the shape settled in @plat/core (`API_KEY_SHAPE`), which
 * @plat/logging's redaction and secret scanners also match:
 *
 *   <prefix>_<keyId>_<secret>_<checksum>
 */
import { randomBytes } from 'node:crypto';
import { API_KEY_SHAPE } from '@plat/core';

const { alphabet, keyIdLength, secretLength, checksumLength, maxPrefixSegments } = API_KEY_SHAPE;

/** The parts of a well-formed key. `body` is everything before the checksum (what the HMAC covers). */
export interface ParsedApiKey {
  readonly prefix: string;
  readonly keyId: string;
  readonly secret: string;
  readonly checksum: string;
  readonly body: string;
}

const PREFIX = new RegExp(
  `^${API_KEY_SHAPE.prefixSegment}(?:_${API_KEY_SHAPE.prefixSegment}){0,${maxPrefixSegments - 1}}$`,
);
const BASE62 = /^[0-9A-Za-z]+$/;
/** The longest key the shape allows: three 16-character prefix segments plus the fixed parts. */
export const MAX_KEY_LENGTH = 3 * 16 + 2 + keyIdLength + secretLength + checksumLength + 3;
const MIN_KEY_LENGTH = 1 + keyIdLength + secretLength + checksumLength + 3;

/** True when `prefix` is one to three lower-case segments (`plat_live`, `acme_test`). */
export function isValidPrefix(prefix: string): boolean {
  return PREFIX.test(prefix);
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (IEEE, as zlib and GitHub's tokens use) of an ASCII string. `zlib.crc32` only exists from
 * Node 20.15, and keys are ASCII, so char codes are the bytes.
 */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A number in base62, left-padded with `0` to `width` characters (62^6 > 2^32, so a CRC fits in 6). */
function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0) {
    out = alphabet[rest % 62]! + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, '0');
}

/** The checksum of a key body: CRC32 in base62, six characters. */
export function checksumOf(body: string): string {
  return base62(crc32(body), checksumLength);
}

/**
 * `length` random base62 characters from `crypto.randomBytes`, without modulo bias: bytes of 248 or
 * more (248 = 4 × 62) are discarded, so each character is uniform over the 62 symbols.
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    // 248/256 of the bytes are kept; asking for 25% more almost always needs one call.
    const bytes = randomBytes(Math.ceil((length - out.length) * 1.25) + 4);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const byte = bytes[i]!;
      if (byte < 248) out += alphabet[byte % 62]!;
    }
  }
  return out;
}

/** A fresh key id: 12 base62 characters (about 71 bits), public, used for lookup. */
export function generateKeyId(): string {
  return randomBase62(keyIdLength);
}

/**
 * Assembles a key from its parts, appending the checksum.
 *
 * @example
 * ```ts
 * const key = formatApiKey('plat_live', generateKeyId(), randomBase62(32));
 * ```
 */
export function formatApiKey(prefix: string, keyId: string, secret: string): string {
  const body = `${prefix}_${keyId}_${secret}`;
  return `${body}_${checksumOf(body)}`;
}

/**
 * Splits a presented key into its parts, verifying shape and checksum; `undefined` for anything
 * else. Never throws and never touches storage, so a mistyped or random string costs microseconds.
 *
 * @example
 * ```ts
 * parseApiKey(key)?.keyId; // '4fQ9aB7cD2eF'
 * parseApiKey('plat_live_nonsense'); // undefined
 * ```
 */
export function parseApiKey(value: unknown): ParsedApiKey | undefined {
  if (typeof value !== 'string' || value.length < MIN_KEY_LENGTH || value.length > MAX_KEY_LENGTH) {
    return undefined;
  }
  const checksumAt = value.length - checksumLength;
  const secretAt = checksumAt - 1 - secretLength;
  const keyIdAt = secretAt - 1 - keyIdLength;
  if (value[checksumAt - 1] !== '_' || value[secretAt - 1] !== '_' || value[keyIdAt - 1] !== '_') {
    return undefined;
  }
  const prefix = value.slice(0, keyIdAt - 1);
  const keyId = value.slice(keyIdAt, secretAt - 1);
  const secret = value.slice(secretAt, checksumAt - 1);
  const checksum = value.slice(checksumAt);
  if (!PREFIX.test(prefix) || !BASE62.test(keyId) || !BASE62.test(secret) || !BASE62.test(checksum)) {
    return undefined;
  }
  const body = value.slice(0, checksumAt - 1);
  if (checksumOf(body) !== checksum) return undefined;
  return { prefix, keyId, secret, checksum, body };
}

/**
 * True when `value` is a well-formed key with a correct checksum (what a secret scanner or a
 * pre-commit hook can check offline).
 *
 * @example
 * ```ts
 * if (isWellFormedApiKey(token)) reportLeak(token);
 * ```
 */
export function isWellFormedApiKey(value: unknown): value is string {
  return parseApiKey(value) !== undefined;
}

/** Whether a string could be a key id (12 base62 characters); cheap input check for routes. */
export function isKeyId(value: unknown): value is string {
  return typeof value === 'string' && value.length === keyIdLength && BASE62.test(value);
}

export { secretLength as SECRET_LENGTH };

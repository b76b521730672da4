/**
 * The shape of a @plat API key, shared by the package that issues keys (@plat/apikeys) and the ones
 * that must recognise them in text (@plat/logging's redaction, secret scanners):
 *
 *   <prefix>_<keyId>_<secret>_<checksum>      e.g. plat_live_4fQ9..._Zk2...(32)_0aB3xY
 *
 * - prefix: one to three lower-case segments joined by `_` (`plat_live`, `acme_test`);
 * - keyId: 12 base62 characters, public, used for lookup;
 * - secret: 32 base62 characters (about 190 bits);
 * - checksum: 6 base62 characters, CRC32 of everything before the last `_`.
 */

export const API_KEY_SHAPE = {
  prefixSegment: '[a-z][a-z0-9]{0,15}',
  maxPrefixSegments: 3,
  keyIdLength: 12,
  secretLength: 32,
  checksumLength: 6,
  alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
} as const;

const { prefixSegment, maxPrefixSegments, keyIdLength, secretLength, checksumLength } = API_KEY_SHAPE;
// Bounded quantifiers separated by `_` (never part of base62): matching is linear in the input.
const body =
  `${prefixSegment}(?:_${prefixSegment}){0,${maxPrefixSegments - 1}}` +
  `_[0-9A-Za-z]{${keyIdLength}}_[0-9A-Za-z]{${secretLength}}_[0-9A-Za-z]{${checksumLength}}`;

/** Source of a regular expression matching an API key anywhere in a text, not inside a longer token. */
export const API_KEY_PATTERN_SOURCE = `(?<![A-Za-z0-9_])${body}(?![A-Za-z0-9_])`;

const whole = new RegExp(`^${body}$`);

/**
 * True when `value` has the shape of a @plat API key (the checksum is not verified here).
 *
 * @example
 * ```ts
 * looksLikeApiKey('plat_live_' + 'a'.repeat(12) + '_' + 'b'.repeat(32) + '_' + 'c'.repeat(6)); // true
 * ```
 */
export function looksLikeApiKey(value: string): boolean {
  return value.length <= 120 && whole.test(value);
}

/**
 * Replaces every API key in `text` with its prefix and key id followed by `_[REDACTED]`, so logs
 * keep which key was used without the secret.
 *
 * @example
 * ```ts
 * redactApiKeys(`Authorization: Bearer ${key}`); // 'Authorization: Bearer plat_live_4fQ9aB7cD2eF_[REDACTED]'
 * ```
 */
export function redactApiKeys(text: string): string {
  if (text.length < keyIdLength + secretLength + checksumLength + 4) return text;
  return text.replace(new RegExp(API_KEY_PATTERN_SOURCE, 'g'), (key) => {
    const cut = key.length - (secretLength + checksumLength + 2);
    return `${key.slice(0, cut)}_[REDACTED]`;
  });
}

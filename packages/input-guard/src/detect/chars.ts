/**
 * One pass over a value that records which classes of syntax characters it contains, so each
 * detector can skip text that cannot hold its kind of attack (most text is letters, digits,
 * spaces and a little punctuation), the decoder can skip layers that have nothing to undo, and
 * NFKC normalisation can be skipped for text it would leave as it is.
 */

import { isConfusable } from './confusables';

export const C = {
  QUOTE: 1 << 0, // ' "
  BACKTICK: 1 << 1,
  ANGLE: 1 << 2, // < >
  SEPARATOR: 1 << 3, // ; | &
  DOLLAR: 1 << 4,
  PAREN: 1 << 5, // ( )
  BRACE: 1 << 6, // { }
  EQUALS: 1 << 7,
  SLASH: 1 << 8, // / \
  DOT: 1 << 9,
  PERCENT: 1 << 10,
  COLON: 1 << 11,
  NEWLINE: 1 << 12, // \n \r
  CONTROL: 1 << 13, // other C0 controls, NUL included, and DEL
  OPERATOR: 1 << 14, // # * + - @ ^ ~ ! , ? [ ]
  LETTER: 1 << 15,
  DIGIT: 1 << 16,
  NON_ASCII: 1 << 17,
  TILDE: 1 << 18,
  TAB: 1 << 19,
  /** `&`, `\` and `+`: with `%`, the characters every encoding we undo starts with. */
  AMP: 1 << 20,
  BACKSLASH: 1 << 21,
  PLUS: 1 << 22,
  /** C1 controls (U+0080–U+009F). */
  C1: 1 << 23,
  /** Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). */
  BIDI: 1 << 24,
  /** UTF-16 surrogates (astral characters, or unpaired halves). */
  SURROGATE: 1 << 25,
  /** Some character that NFKC may change, or that may combine with what precedes it. */
  NFKC: 1 << 26,
  /** A look-alike quote, dash or slash that `foldQuotes`/`foldSlashes` turn into ASCII. */
  CONFUSABLE: 1 << 27,
  /** `'` and `"` apart (both are also QUOTE). */
  APOSTROPHE: 1 << 28,
  DOUBLE_QUOTE: 1 << 29,
} as const;

const TABLE = new Uint32Array(128);
for (let c = 0; c < 32; c++) TABLE[c] = C.CONTROL;
TABLE[9] = C.TAB;
TABLE[10] = C.NEWLINE;
TABLE[13] = C.NEWLINE;
for (let c = 65; c <= 90; c++) TABLE[c] = C.LETTER;
for (let c = 97; c <= 122; c++) TABLE[c] = C.LETTER;
for (let c = 48; c <= 57; c++) TABLE[c] = C.DIGIT;
const set = (chars: string, bit: number) => {
  for (const ch of chars) TABLE[ch.charCodeAt(0)] = (TABLE[ch.charCodeAt(0)] ?? 0) | bit;
};
set(`'"`, C.QUOTE);
set("'", C.APOSTROPHE);
set('"', C.DOUBLE_QUOTE);
set('`', C.BACKTICK);
set('<>', C.ANGLE);
set(';|&', C.SEPARATOR);
set('&', C.AMP);
set('$', C.DOLLAR);
set('()', C.PAREN);
set('{}', C.BRACE);
set('=', C.EQUALS);
set('/\\', C.SLASH);
set('\\', C.BACKSLASH);
set('.', C.DOT);
set('%', C.PERCENT);
set(':', C.COLON);
set('#*+-@^!,?[]', C.OPERATOR);
set('+', C.PLUS);
set('~', C.TILDE | C.OPERATOR);
TABLE[127] = C.CONTROL;

/**
 * What a non-ASCII code point contributes to the mask, computed once per code point: text uses
 * few distinct characters. BMP code points in a table (0: not computed yet), astral ones in a
 * bounded map.
 */
const BMP_BITS = new Int32Array(0x10000);
const ASTRAL_BITS = new Map<number, number>();

/**
 * NFKC(text) === text when every character is its own NFKC form and none can join the one before
 * it: combining marks (category M) and conjoining Hangul jamo are the characters that compose
 * with a predecessor, so they always send the text through `normalize`.
 */
function computeBits(cp: number): number {
  const ch = String.fromCodePoint(cp);
  let bits = C.NON_ASCII;
  if (cp <= 0x9f) bits |= C.C1;
  if (cp >= 0x10000 || (cp >= 0xd800 && cp <= 0xdfff)) bits |= C.SURROGATE;
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) bits |= C.BIDI;
  if (cp < 0x10000 && isConfusable(cp)) bits |= C.CONFUSABLE;
  const lone = cp >= 0xd800 && cp <= 0xdfff;
  if (!lone && (ch.normalize('NFKC') !== ch || /\p{M}/u.test(ch) || (cp >= 0x1100 && cp <= 0x11ff)))
    bits |= C.NFKC;
  return bits;
}

function codePointBits(cp: number): number {
  if (cp < 0x10000) {
    const known = BMP_BITS[cp]!;
    if (known !== 0) return known;
    const bits = computeBits(cp);
    BMP_BITS[cp] = bits;
    return bits;
  }
  let bits = ASTRAL_BITS.get(cp);
  if (bits === undefined) {
    bits = computeBits(cp);
    // Bounded: astral text is mostly a few emoji; beyond that, recompute.
    if (ASTRAL_BITS.size < 4096) ASTRAL_BITS.set(cp, bits);
  }
  return bits;
}

/** Longest value encoded in one go; longer ones are read with `charCodeAt`. */
const MAX_ENCODED = 16_384;
const BUFFER = new Uint8Array(MAX_ENCODED * 3);
const ENCODER = new TextEncoder();

/**
 * The classes of characters present in `text`.
 *
 * The value is UTF-8 encoded into a reused buffer (native, one copy) and the bytes are read from
 * a typed array. A `charCodeAt` loop is as fast only while it has seen one kind of string: in a
 * server that reads sliced, concatenated, one- and two-byte strings it slows down four to five
 * times, and this loop runs on every value.
 */
export function charMask(text: string): number {
  if (text.length > MAX_ENCODED) return stringMask(text);
  const written = ENCODER.encodeInto(text, BUFFER).written;
  let mask = 0;
  for (let j = 0; j < written; j++) {
    const b = BUFFER[j]!;
    if (b < 128) {
      mask |= TABLE[b]!;
      continue;
    }
    // UTF-8 as encodeInto writes it (always well-formed).
    let cp: number;
    if (b < 0xe0) {
      cp = ((b & 0x1f) << 6) | (BUFFER[j + 1]! & 0x3f);
      j += 1;
    } else if (b < 0xf0) {
      cp = ((b & 0x0f) << 12) | ((BUFFER[j + 1]! & 0x3f) << 6) | (BUFFER[j + 2]! & 0x3f);
      j += 2;
    } else {
      cp =
        ((b & 0x07) << 18) |
        ((BUFFER[j + 1]! & 0x3f) << 12) |
        ((BUFFER[j + 2]! & 0x3f) << 6) |
        (BUFFER[j + 3]! & 0x3f);
      j += 3;
    }
    // encodeInto writes U+FFFD for an unpaired surrogate: read such text from the string.
    if (cp === 0xfffd) return stringMask(text);
    mask |= codePointBits(cp);
  }
  return mask;
}

/** `charMask` from the string itself (very long values, unpaired surrogates). */
function stringMask(text: string): number {
  let mask = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      mask |= TABLE[c]!;
      continue;
    }
    const low = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
      mask |= codePointBits(((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000);
      i++;
    } else {
      mask |= codePointBits(c);
    }
  }
  return mask;
}

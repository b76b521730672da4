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
 * Per BMP code unit: 0 not yet known, 1 NFKC leaves it alone and it combines with nothing before
 * it, 2 otherwise. Filled lazily: text uses few distinct characters.
 */
const INERT = new Uint8Array(0x10000);
const INERT_ASTRAL = new Map<number, boolean>();

/**
 * NFKC(text) === text when every character is its own NFKC form and none can join the one before
 * it: combining marks (category M) and conjoining Hangul jamo are the characters that compose
 * with a predecessor, so they always send the text through `normalize`.
 */
function computeInert(cp: number): boolean {
  const ch = String.fromCodePoint(cp);
  return ch.normalize('NFKC') === ch && !/\p{M}/u.test(ch) && !(cp >= 0x1100 && cp <= 0x11ff);
}

function inert(cp: number): boolean {
  if (cp < 0x10000) {
    const known = INERT[cp]!;
    if (known !== 0) return known === 1;
    const value = computeInert(cp);
    INERT[cp] = value ? 1 : 2;
    return value;
  }
  let value = INERT_ASTRAL.get(cp);
  if (value === undefined) {
    value = computeInert(cp);
    // Bounded: astral text is mostly a few emoji; beyond that, recompute.
    if (INERT_ASTRAL.size < 4096) INERT_ASTRAL.set(cp, value);
  }
  return value;
}

/** The bits of one non-ASCII code unit at `i` (and its low surrogate, read by the caller). */
function nonAsciiBits(text: string, i: number, c: number): number {
  let bits = C.NON_ASCII;
  if (c <= 0x9f) return bits | C.C1 | (inert(c) ? 0 : C.NFKC);
  if (c >= 0xd800 && c <= 0xdfff) {
    bits |= C.SURROGATE;
    const low = text.charCodeAt(i + 1);
    if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
      return inert(((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000) ? bits : bits | C.NFKC;
    }
    return bits;
  }
  if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) bits |= C.BIDI;
  if (isConfusable(c)) bits |= C.CONFUSABLE;
  return inert(c) ? bits : bits | C.NFKC;
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
 * times, and this loop runs on every value. The ASCII prefix maps byte for byte; from the first
 * non-ASCII character on, `mixedMask` reads the string.
 */
export function charMask(text: string): number {
  if (text.length > MAX_ENCODED) return mixedMask(text, 0);
  const written = ENCODER.encodeInto(text, BUFFER).written;
  let mask = 0;
  for (let j = 0; j < written; j++) {
    const b = BUFFER[j]!;
    if (b >= 128) return mask | mixedMask(text, j);
    mask |= TABLE[b]!;
  }
  return mask;
}

function mixedMask(text: string, from: number): number {
  let mask = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) mask |= TABLE[c]!;
    else mask |= nonAsciiBits(text, i, c);
  }
  return mask;
}

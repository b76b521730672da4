/**
 * Bounded decoding before detection. Attackers hide syntax behind encodings that some layer of
 * the application (a proxy, a framework, a template, a browser) will undo later: percent-encoding
 * (double-encoded, `%uXXXX`, overlong UTF-8), HTML character references, backslash escapes and
 * UTF-7. We undo them the way a lenient decoder would, a bounded number of rounds, and normalise
 * with NFKC so full-width and compatibility forms fold to the ASCII syntax they imitate.
 *
 * Everything here is a single left-to-right pass per round: linear in the input.
 */

import { C, charMask } from './chars';

/** One form of the value the detectors look at. */
export interface TextView {
  readonly text: string;
  /** `charMask(text)`: which classes of syntax characters it holds. */
  readonly mask: number;
  /** False for the value as received (after NFKC), true for every decoded form. */
  readonly decoded: boolean;
}

/**
 * NFKC, skipped for text it would leave as it is: pure ASCII (most input), and text whose other
 * characters are their own normal form and combine with nothing (accented letters, CJK, most emoji).
 */
export function nfkc(text: string): string {
  return (charMask(text) & C.NFKC) !== 0 ? text.normalize('NFKC') : text;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** Reads `count` hex digits at `at`; -1 when any is missing. */
function readHex(text: string, at: number, count: number): number {
  if (at + count > text.length) return -1;
  let value = 0;
  for (let i = 0; i < count; i++) {
    const digit = hexValue(text.charCodeAt(at + i));
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

function fromCodePoint(cp: number): string {
  return cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
}

/**
 * Decodes a run of bytes the way a lenient (vulnerable) UTF-8 decoder does: overlong forms are
 * accepted (`C0 AF` is `/`), a lead byte without its continuation bytes is dropped (so `%c0%2e`
 * reads as `.`), and stray bytes map to Latin-1.
 */
function decodeBytesLeniently(bytes: readonly number[]): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need = 0;
    let cp = 0;
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    if (b >= 0xc0 && b <= 0xdf) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf7) {
      need = 3;
      cp = b & 0x07;
    } else {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    let j = 1;
    while (j <= need && i + j < bytes.length && (bytes[i + j]! & 0xc0) === 0x80) {
      cp = (cp << 6) | (bytes[i + j]! & 0x3f);
      j++;
    }
    if (j === need + 1) {
      out += fromCodePoint(cp);
      i += j;
    } else {
      // Truncated sequence: drop the lead byte, keep whatever followed it.
      i++;
    }
  }
  return out;
}

/** `%XX` (as lenient UTF-8) and `%uXXXX`. `+` stays a plus: values arrive already form-decoded. */
export function percentDecode(text: string): string {
  if (text.indexOf('%') === -1) return text;
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) {
      out += decodeBytesLeniently(bytes);
      bytes = [];
    }
  };
  let i = 0;
  let copied = 0;
  let changed = false;
  while (i < text.length) {
    const percent = text.indexOf('%', i);
    if (percent === -1) break;
    i = percent;
    const byte = readHex(text, i + 1, 2);
    const unit = byte < 0 && (text.charCodeAt(i + 1) | 0x20) === 117 /* u */ ? readHex(text, i + 2, 4) : -1;
    if (byte < 0 && unit < 0) {
      i++;
      continue;
    }
    if (i > copied) {
      flush();
      out += text.slice(copied, i);
    }
    changed = true;
    if (byte >= 0) {
      bytes.push(byte);
      i += 3;
    } else {
      flush();
      out += String.fromCharCode(unit);
      i += 6;
    }
    copied = i;
  }
  if (!changed) return text;
  flush();
  return out + text.slice(copied);
}

/**
 * Named references that stand for syntax characters (HTML5 names them all), plus the few letters
 * and spaces attackers spell out. Text outside this table is left as it is.
 */
const NAMED_REFERENCES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
  colon: ':',
  semi: ';',
  comma: ',',
  period: '.',
  sol: '/',
  bsol: '\\',
  lpar: '(',
  rpar: ')',
  lsqb: '[',
  lbrack: '[',
  rsqb: ']',
  rbrack: ']',
  lcub: '{',
  lbrace: '{',
  rcub: '}',
  rbrace: '}',
  equals: '=',
  excl: '!',
  quest: '?',
  num: '#',
  dollar: '$',
  percnt: '%',
  ast: '*',
  midast: '*',
  plus: '+',
  hyphen: '-',
  dash: '-',
  lowbar: '_',
  grave: '`',
  vert: '|',
  verbar: '|',
  Hat: '^',
  commat: '@',
  tab: '\t',
  Tab: '\t',
  newline: '\n',
  NewLine: '\n',
  nbsp: '\u00a0',
};

/** Legacy names browsers accept without the semicolon. */
const SEMICOLON_OPTIONAL = new Set(['lt', 'gt', 'amp', 'quot', 'LT', 'GT', 'AMP', 'QUOT']);

function isAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || ((code | 0x20) >= 97 && (code | 0x20) <= 122);
}

/** HTML character references: decimal, hex (leading zeros and a missing `;` allowed), and names. */
export function decodeHtmlEntities(text: string): string {
  let amp = text.indexOf('&');
  if (amp === -1) return text;
  let out = '';
  let copied = 0;
  while (amp !== -1) {
    let replacement: string | undefined;
    let end = amp + 1;
    if (text.charCodeAt(amp + 1) === 35 /* # */) {
      const hex = (text.charCodeAt(amp + 2) | 0x20) === 120; /* x */
      let j = amp + (hex ? 3 : 2);
      let value = 0;
      const startDigits = j;
      while (j < text.length && j - startDigits < 10) {
        const d = hex ? hexValue(text.charCodeAt(j)) : text.charCodeAt(j) - 48;
        if (d < 0 || d > (hex ? 15 : 9)) break;
        value = value * (hex ? 16 : 10) + d;
        j++;
      }
      if (j > startDigits) {
        if (text.charCodeAt(j) === 59 /* ; */) j++;
        replacement = value === 0 ? '\ufffd' : fromCodePoint(value);
        end = j;
      }
    } else {
      let j = amp + 1;
      while (j < text.length && j - amp <= 10 && isAlnum(text.charCodeAt(j))) j++;
      if (j > amp + 1) {
        const name = text.slice(amp + 1, j);
        const hasSemicolon = text.charCodeAt(j) === 59;
        const named = NAMED_REFERENCES[name] ?? NAMED_REFERENCES[name.toLowerCase()];
        if (named !== undefined && (hasSemicolon || SEMICOLON_OPTIONAL.has(name))) {
          replacement = named;
          end = hasSemicolon ? j + 1 : j;
        }
      }
    }
    if (replacement !== undefined) {
      out += text.slice(copied, amp) + replacement;
      copied = end;
    }
    amp = text.indexOf('&', end);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  f: '\f',
  b: '\b',
  '0': '\0',
  "'": "'",
  '"': '"',
  '`': '`',
  '/': '/',
};

/** Backslash escapes of JavaScript, C and JSON: `\xHH`, `\uHHHH`, `\u{H…}`, `\n`, `\'`… */
export function decodeBackslashEscapes(text: string): string {
  let slash = text.indexOf('\\');
  if (slash === -1) return text;
  let out = '';
  let copied = 0;
  while (slash !== -1 && slash + 1 < text.length) {
    const next = text[slash + 1]!;
    let replacement: string | undefined;
    let end = slash + 2;
    if (next === 'x' || next === 'X') {
      const value = readHex(text, slash + 2, 2);
      if (value >= 0) {
        replacement = String.fromCharCode(value);
        end = slash + 4;
      }
    } else if (next === 'u' || next === 'U') {
      if (text[slash + 2] === '{') {
        const close = text.indexOf('}', slash + 3);
        if (close > slash + 3 && close - slash <= 10) {
          const value = readHex(text, slash + 3, close - slash - 3);
          if (value >= 0) {
            replacement = fromCodePoint(value);
            end = close + 1;
          }
        }
      } else {
        const value = readHex(text, slash + 2, 4);
        if (value >= 0) {
          replacement = String.fromCharCode(value);
          end = slash + 6;
        }
      }
    } else {
      replacement = SIMPLE_ESCAPES[next];
    }
    if (replacement === undefined) {
      // `\\` stays as it is, and the second backslash does not start another escape.
      slash = text.indexOf('\\', next === '\\' ? slash + 2 : slash + 1);
      continue;
    }
    out += text.slice(copied, slash) + replacement;
    copied = end;
    slash = text.indexOf('\\', end);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function base64Value(code: number): number {
  return code < 128 ? BASE64.indexOf(String.fromCharCode(code)) : -1;
}

/**
 * UTF-7 (`+ADw-script+AD4-`): old browsers sniffed it, so it still turns up in payload lists.
 * Only runs whose decoded form contains markup or quote characters are replaced, so ordinary text
 * with plus signs (`C++`, `+1`) is left alone.
 */
export function decodeUtf7(text: string): string {
  if (text.indexOf('+') === -1) return text;
  let out = '';
  let i = 0;
  let changed = false;
  while (i < text.length) {
    if (text.charCodeAt(i) !== 43 /* + */ || base64Value(text.charCodeAt(i + 1)) < 0) {
      out += text[i];
      i++;
      continue;
    }
    let j = i + 1;
    let bits = 0;
    let bitCount = 0;
    let decoded = '';
    while (j < text.length) {
      const v = base64Value(text.charCodeAt(j));
      if (v < 0) break;
      bits = ((bits << 6) | v) & 0xffffff;
      bitCount += 6;
      if (bitCount >= 16) {
        bitCount -= 16;
        decoded += String.fromCharCode((bits >> bitCount) & 0xffff);
      }
      j++;
    }
    if (text.charCodeAt(j) === 45 /* - */) j++;
    let syntax = false;
    for (let k = 0; k < decoded.length; k++) {
      const ch = decoded.charCodeAt(k);
      if (ch === 60 || ch === 62 || ch === 34 || ch === 39) syntax = true;
      else if (ch < 32 || ch > 0xfffd) {
        syntax = false;
        break;
      }
    }
    if (syntax) {
      out += decoded;
      changed = true;
      i = j;
    } else {
      out += text[i];
      i++;
    }
  }
  return changed ? out : text;
}

/** Every decoder once, without NFKC. */
function decodeLayers(text: string, mask: number): string {
  let out = text;
  if ((mask & C.PERCENT) !== 0) out = percentDecode(out);
  // Percent-decoding may have produced the characters the next layers start with.
  const m = out === text ? mask : ENCODING_CHARS;
  if ((m & C.AMP) !== 0) out = decodeHtmlEntities(out);
  if ((m & C.BACKSLASH) !== 0 || out !== text) out = decodeBackslashEscapes(out);
  if ((m & C.PLUS) !== 0 || out !== text) out = decodeUtf7(out);
  return out;
}

/** One round: every decoder once, then NFKC. */
export function decodeOnce(text: string): string {
  const decoded = decodeLayers(text, charMask(text));
  return decoded === text ? text : nfkc(decoded);
}

/**
 * The value as received (NFKC) and each distinct decoded form, at most `maxRounds` rounds deep.
 *
 * @example
 * ```ts
 * decodeViews('%253Cscript%253E', 3).map((v) => v.text); // ['%253Cscript%253E', '%3Cscript%3E', '<script>']
 * ```
 */
export function decodeViews(input: string, maxRounds = 3): TextView[] {
  return decodeValue(input, maxRounds).views;
}

/** The views of `decodeViews`, and `charMask` of the value as received (before NFKC). */
export function decodeValue(input: string, maxRounds = 3): { views: TextView[]; rawMask: number } {
  const rawMask = charMask(input);
  let mask = rawMask;
  let first = input;
  if ((rawMask & C.NFKC) !== 0) {
    first = input.normalize('NFKC');
    if (first !== input) mask = charMask(first);
  }
  const views: TextView[] = [{ text: first, mask, decoded: false }];
  if (first !== input && input.indexOf('\u00bc') !== -1) {
    // NFKC turns `¼` into `1⁄4`; a 7-bit layer turns it into `<`. Look at that reading too.
    const stripped = stripHighBit(input);
    views.push({ text: stripped, mask: charMask(stripped), decoded: true });
  }
  let current = first;
  for (let round = 0; round < maxRounds && (mask & ENCODING_CHARS) !== 0; round++) {
    let next = decodeLayers(current, mask);
    if (next === current) break;
    let nextMask = charMask(next);
    if ((nextMask & C.NFKC) !== 0) {
      const normalized = next.normalize('NFKC');
      if (normalized !== next) {
        next = normalized;
        nextMask = charMask(next);
      }
    }
    if (next === current) break;
    mask = nextMask;
    views.push({ text: next, mask, decoded: true });
    current = next;
  }
  return { views, rawMask };
}

/**
 * Servers and proxies that read text as 7-bit US-ASCII drop the high bit of Latin-1 characters,
 * turning `¼script¾` into `<script>`.
 */
export function stripHighBit(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c >= 0x80 && c <= 0xff ? String.fromCharCode(c & 0x7f) : text[i];
  }
  return out;
}

/** `%`, `&`, `\` and `+` start every encoding we undo. */
const ENCODING_CHARS = C.PERCENT | C.AMP | C.BACKSLASH | C.PLUS;

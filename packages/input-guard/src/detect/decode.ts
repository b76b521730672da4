/**
 * Bounded decoding before detection. Attackers hide syntax behind encodings that some layer of
 * the application (a proxy, a framework, a template, a browser) will undo later: percent-encoding
 * (double-encoded, `%uXXXX`, overlong UTF-8), HTML character references, backslash escapes and
 * UTF-7. We undo them the way a lenient decoder would, a bounded number of rounds, and normalise
 * with NFKC so full-width and compatibility forms fold to the ASCII syntax they imitate.
 *
 * Everything here is a single left-to-right pass per round: linear in the input.
 */

/** One form of the value the detectors look at. */
export interface TextView {
  readonly text: string;
  /** False for the value as received (after NFKC), true for every decoded form. */
  readonly decoded: boolean;
}

function hasNonAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return true;
  return false;
}

/** NFKC, skipped for pure ASCII (its own normal form), which is most input. */
export function nfkc(text: string): string {
  return hasNonAscii(text) ? text.normalize('NFKC') : text;
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
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 37 /* % */) {
      const byte = readHex(text, i + 1, 2);
      if (byte >= 0) {
        bytes.push(byte);
        i += 3;
        continue;
      }
      const next = text.charCodeAt(i + 1) | 0x20;
      if (next === 117 /* u */) {
        const unit = readHex(text, i + 2, 4);
        if (unit >= 0) {
          flush();
          out += String.fromCharCode(unit);
          i += 6;
          continue;
        }
      }
    }
    flush();
    out += text[i];
    i++;
  }
  flush();
  return out;
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
  if (text.indexOf('&') === -1) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 38 /* & */) {
      out += text[i];
      i++;
      continue;
    }
    if (text.charCodeAt(i + 1) === 35 /* # */) {
      const hex = (text.charCodeAt(i + 2) | 0x20) === 120; /* x */
      let j = i + (hex ? 3 : 2);
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
        out += value === 0 ? '\ufffd' : fromCodePoint(value);
        i = j;
        continue;
      }
    } else {
      let j = i + 1;
      while (j < text.length && j - i <= 10 && isAlnum(text.charCodeAt(j))) j++;
      const name = text.slice(i + 1, j);
      const hasSemicolon = text.charCodeAt(j) === 59;
      const replacement = NAMED_REFERENCES[name] ?? NAMED_REFERENCES[name.toLowerCase()];
      if (replacement !== undefined && (hasSemicolon || SEMICOLON_OPTIONAL.has(name))) {
        out += replacement;
        i = hasSemicolon ? j + 1 : j;
        continue;
      }
    }
    out += '&';
    i++;
  }
  return out;
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
  if (text.indexOf('\\') === -1) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) !== 92 /* \ */ || i + 1 >= text.length) {
      out += text[i];
      i++;
      continue;
    }
    const next = text[i + 1]!;
    if (next === 'x' || next === 'X') {
      const value = readHex(text, i + 2, 2);
      if (value >= 0) {
        out += String.fromCharCode(value);
        i += 4;
        continue;
      }
    } else if (next === 'u' || next === 'U') {
      if (text[i + 2] === '{') {
        const close = text.indexOf('}', i + 3);
        if (close > i + 3 && close - i <= 10) {
          const value = readHex(text, i + 3, close - i - 3);
          if (value >= 0) {
            out += fromCodePoint(value);
            i = close + 1;
            continue;
          }
        }
      } else {
        const value = readHex(text, i + 2, 4);
        if (value >= 0) {
          out += String.fromCharCode(value);
          i += 6;
          continue;
        }
      }
    } else {
      const simple = SIMPLE_ESCAPES[next];
      if (simple !== undefined) {
        out += simple;
        i += 2;
        continue;
      }
    }
    out += '\\';
    i++;
  }
  return out;
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

/** One round: every decoder once, then NFKC. */
export function decodeOnce(text: string): string {
  return nfkc(decodeUtf7(decodeBackslashEscapes(decodeHtmlEntities(percentDecode(text)))));
}

/** True when some decoder could change the value: a cheap test that skips most text. */
function mayBeEncoded(text: string): boolean {
  return (
    text.indexOf('%') !== -1 ||
    text.indexOf('&') !== -1 ||
    text.indexOf('\\') !== -1 ||
    text.indexOf('+') !== -1
  );
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
  const first = nfkc(input);
  const views: TextView[] = [{ text: first, decoded: false }];
  let current = first;
  for (let round = 0; round < maxRounds && mayBeEncoded(current); round++) {
    const next = decodeOnce(current);
    if (next === current) break;
    views.push({ text: next, decoded: true });
    current = next;
  }
  return views;
}

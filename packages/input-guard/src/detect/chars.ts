/**
 * One pass over a value that records which classes of syntax characters it contains, so each
 * detector can skip text that cannot hold its kind of attack (most text is letters, digits,
 * spaces and a little punctuation).
 */

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
  CONTROL: 1 << 13, // other C0 controls, NUL included
  OPERATOR: 1 << 14, // # * + - @ ^ ~ ! , ?
  LETTER: 1 << 15,
  DIGIT: 1 << 16,
  NON_ASCII: 1 << 17,
  TILDE: 1 << 18,
  TAB: 1 << 19,
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
set('$', C.DOLLAR);
set('()', C.PAREN);
set('{}', C.BRACE);
set('=', C.EQUALS);
set('/\\', C.SLASH);
set('.', C.DOT);
set('%', C.PERCENT);
set(':', C.COLON);
set('#*+-@^!,?[]', C.OPERATOR);
set('~', C.TILDE | C.OPERATOR);
TABLE[127] = C.CONTROL;

/** The classes of characters present in `text`. */
export function charMask(text: string): number {
  let mask = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    mask |= c < 128 ? TABLE[c]! : C.NON_ASCII;
  }
  return mask;
}

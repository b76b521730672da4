/**
 * Characters that some layer maps to ASCII syntax: database "best fit" conversions to legacy code
 * pages (U+02BC becomes an apostrophe), typographic substitution in copied payloads (`--` became
 * an en dash), IIS's `%u` decoding of look-alike slashes. NFKC already folds the full-width forms;
 * these are the look-alikes it leaves alone.
 */

const QUOTE_LIKE: Readonly<Record<string, string>> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u2032': "'",
  '\u02b9': "'",
  '\u02bc': "'",
  '\u02c8': "'",
  '\u00b4': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u2033': '"',
  '\u02ba': '"',
  '\u2013': '--',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
};

const SLASH_LIKE: Readonly<Record<string, string>> = {
  '\u2215': '/',
  '\u2044': '/',
  '\u29f8': '/',
  '\u2571': '/',
  '\u2216': '\\',
  '\u29f5': '\\',
  '\u29f9': '\\',
  '\u2572': '\\',
  '\ufe68': '\\',
  '\u2024': '.',
  '\u2025': '..',
  '\ufe52': '.',
};

type FoldTable = ReadonlyMap<number, string>;

function toTable(record: Readonly<Record<string, string>>): FoldTable {
  return new Map(Object.entries(record).map(([from, to]) => [from.charCodeAt(0), to]));
}

const QUOTES = toTable(QUOTE_LIKE);
const SLASHES = toTable(SLASH_LIKE);

/** Whether a code unit is folded by `foldQuotes` or `foldSlashes` (`charMask` marks such text). */
export function isConfusable(code: number): boolean {
  return QUOTES.has(code) || SLASHES.has(code);
}

function fold(text: string, table: FoldTable): string {
  let out = '';
  let copied = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xb4) continue;
    const replacement = table.get(code);
    if (replacement === undefined) continue;
    out += text.slice(copied, i) + replacement;
    copied = i + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Typographic quotes, primes and dashes folded to `'`, `"` and `--`. */
export function foldQuotes(text: string): string {
  return fold(text, QUOTES);
}

/** Look-alike slashes, backslashes and dots folded to ASCII. */
export function foldSlashes(text: string): string {
  return fold(text, SLASHES);
}

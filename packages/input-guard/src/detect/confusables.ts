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

function fold(text: string, table: Readonly<Record<string, string>>): string {
  let out: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xb4) continue;
    const replacement = table[text[i]!];
    if (replacement === undefined) continue;
    out = (out ?? text.slice(0, i)) + replacement;
    // Copy the run up to the next candidate lazily.
    let j = i + 1;
    while (j < text.length && (text.charCodeAt(j) < 0xb4 || table[text[j]!] === undefined)) j++;
    out += text.slice(i + 1, j);
    i = j - 1;
  }
  return out ?? text;
}

/** Typographic quotes, primes and dashes folded to `'`, `"` and `--`. */
export function foldQuotes(text: string): string {
  return fold(text, QUOTE_LIKE);
}

/** Look-alike slashes, backslashes and dots folded to ASCII. */
export function foldSlashes(text: string): string {
  return fold(text, SLASH_LIKE);
}

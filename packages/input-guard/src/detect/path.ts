/**
 * Path traversal by normalisation. The value (already percent-, entity- and escape-decoded by the
 * caller's rounds, overlong UTF-8 included) has look-alike slashes folded, then is read as a path:
 * a `..` segment (or the `...`/`....` forms Windows collapses, or `..;` for Tomcat) next to a
 * separator, a NUL byte that truncates a file name, or, depending on the level, an absolute path.
 * Ellipses in prose (`wait... what`, `0..0`) are not segments and are not reported.
 */
import type { GuardLevel } from '../types';
import { C, charMask } from './chars';
import { foldSlashes } from './confusables';

export interface PathFinding {
  rule: string;
  reason: string;
  start: number;
  end: number;
}

const LEVEL_RANK: Readonly<Record<GuardLevel, number>> = { low: 0, balanced: 1, strict: 2 };

function isSeparator(c: number): boolean {
  return c === 47 /* / */ || c === 92 /* \ */;
}

/** Characters servers treat as the end of a segment after `..`: separators, `;` (Tomcat), NUL. */
function endsSegment(c: number): boolean {
  return isSeparator(c) || c === 59 || c === 0 || Number.isNaN(c) || c === 63 || c === 35;
}

function dotDotSegment(text: string): PathFinding | undefined {
  let i = text.indexOf('..');
  while (i !== -1) {
    let end = i;
    while (text.charCodeAt(end) === 46) end++;
    const before = i === 0 ? Number.NaN : text.charCodeAt(i - 1);
    const leftBound = i === 0 || isSeparator(before);
    const after = text.charCodeAt(end);
    // `..` may also carry trailing spaces before the separator on Windows.
    let k = end;
    while (text.charCodeAt(k) === 32) k++;
    // Private-use characters are not text: best-fit code pages map some of them to slashes.
    const privateUse = after >= 0xe000 && after <= 0xf8ff;
    const rightSep =
      isSeparator(after) ||
      after === 59 ||
      after === 0 ||
      privateUse ||
      (k > end && isSeparator(text.charCodeAt(k)));
    const rightEnd = Number.isNaN(after);
    if ((leftBound && (rightSep || rightEnd || endsSegment(after))) || (rightSep && (leftBound || i === 0))) {
      return {
        rule: 'path.traversal',
        reason: 'Path traversal: contains a ".." path segment',
        start: i,
        end,
      };
    }
    // `foo/..` at the very end.
    if (rightEnd && i > 0 && isSeparator(before)) {
      return {
        rule: 'path.traversal',
        reason: 'Path traversal: ends with a ".." path segment',
        start: i,
        end,
      };
    }
    i = text.indexOf('..', end);
  }
  return undefined;
}

/**
 * `..%uEFC8..%uEFC8`, `..0x2f..0x2f`: dot-dot pairs joined by the same odd delimiter, repeated.
 * Servers with best-fit mappings read the delimiter as a slash; the repetition is the tell.
 */
function repeatedDotDot(text: string): PathFinding | undefined {
  let i = text.indexOf('..');
  while (i !== -1) {
    let end = i;
    while (text.charCodeAt(end) === 46) end++;
    const next = text.indexOf('..', end);
    if (next === -1) return undefined;
    const delimiter = text.slice(end, next);
    if (
      delimiter.length >= 1 &&
      delimiter.length <= 6 &&
      delimiter.trim() === delimiter &&
      !isWords(delimiter)
    ) {
      let after = next;
      while (text.charCodeAt(after) === 46) after++;
      if (text.startsWith(delimiter, after) || (i === 0 && after - next >= 2)) {
        return {
          rule: 'path.traversal',
          reason: 'Path traversal: repeated ".." segments with an unusual separator',
          start: i,
          end: after,
        };
      }
    }
    i = next;
  }
  return undefined;
}

function isWords(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (!(c >= 97 && c <= 122) && text.charCodeAt(i) !== 32) return false;
  }
  return true;
}

/** `./././././etc/passwd`: padding with current-directory segments to slip past filters. */
function dotPadding(text: string): PathFinding | undefined {
  const parts = segments(text);
  let run = 0;
  for (const part of parts) {
    if (part === '.') {
      if (++run >= 3) {
        const at = text.indexOf('.');
        return {
          rule: 'path.dot-padding',
          reason: 'Path traversal: padded with "." segments',
          start: at,
          end: text.length,
        };
      }
    } else if (part !== '') {
      run = 0;
    }
  }
  return undefined;
}

function nulByte(text: string): PathFinding | undefined {
  const at = text.indexOf('\0');
  if (at === -1) return undefined;
  return {
    rule: 'path.nul-byte',
    reason: 'Path traversal: contains a NUL byte that truncates file names',
    start: at,
    end: at + 1,
  };
}

function hasSpace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) return true;
  }
  return false;
}

/** Segments of a path-shaped value: no spaces, at least one separator. */
function segments(text: string): string[] {
  return text.split(/[/\\]/);
}

function pathFinding(rule: string, reason: string, start: number, end: number): PathFinding {
  return { rule, reason, start, end };
}

/**
 * Absolute paths: drive roots (`C:\`), UNC shares (`\\host\share`), `file:` URLs and Windows
 * environment roots (`%SYSTEMROOT%\`) at every level; `/etc/passwd`-style roots from `balanced`,
 * or at `low` when dot segments or doubled separators show the path was dressed up.
 */
function absolutePath(text: string, rank: number): PathFinding | undefined {
  const value = text.trim();
  if (value.length < 3 || (hasSpace(value) && rank < 2)) return undefined;
  const at = text.indexOf(value);
  const c0 = value.charCodeAt(0);
  const c1 = value.charCodeAt(1);
  const c2 = value.charCodeAt(2);
  if ((c0 | 0x20) >= 97 && (c0 | 0x20) <= 122 && c1 === 58 && isSeparator(c2) && value.length > 3) {
    return pathFinding('path.absolute', 'Path traversal: an absolute Windows path', at, at + value.length);
  }
  if (c0 === 92 && c1 === 92 && value.length > 3 && !isSeparator(c2))
    return pathFinding('path.absolute', 'Path traversal: a UNC network path', at, at + value.length);
  if (value.toLowerCase().startsWith('file:'))
    return pathFinding('path.absolute', 'Path traversal: a file: URL', at, at + value.length);
  if (c0 === 37) {
    const close = value.indexOf('%', 1);
    if (
      close > 1 &&
      isSeparator(value.charCodeAt(close + 1)) &&
      /^%[A-Za-z_]+%$/.test(value.slice(0, close + 1))
    ) {
      return pathFinding(
        'path.absolute',
        'Path traversal: a path under a Windows environment root',
        at,
        at + value.length,
      );
    }
  }
  if (isSeparator(c0)) {
    const parts = segments(value);
    if (c0 === 92 && parts.filter((p) => p.length > 0).length >= 2 && rank === 0) {
      // Prose never starts with a backslash; a Windows root-relative path does.
      return pathFinding(
        'path.absolute',
        'Path traversal: a path from the root of a Windows drive',
        at,
        at + value.length,
      );
    }
    const named = parts.filter((p) => p.length > 0 && p !== '.');
    const dressed = parts.some((p, i) => p === '.' || (p === '' && i > 0 && i < parts.length - 1));
    if (named.length >= 2 && (rank >= 1 || dressed)) {
      return pathFinding('path.absolute', 'Path traversal: an absolute path', at, at + value.length);
    }
    if (rank >= 2 && named.length >= 1)
      return pathFinding('path.absolute', 'Path traversal: an absolute path', at, at + value.length);
  }
  if (rank >= 2 && (c0 === 126 /* ~ */ || value.startsWith('./') || value.startsWith('.\\'))) {
    return pathFinding(
      'path.relative-root',
      'Path traversal: a path relative to a home or working directory',
      at,
      at + value.length,
    );
  }
  return undefined;
}

/**
 * Looks for path traversal in one (already decoded) value.
 *
 * @example
 * ```ts
 * findPathTraversal('..%2f..%2fetc/passwd', 'low'); // undefined until decoded: scan() decodes first
 * findPathTraversal('../../etc/passwd', 'low')?.rule; // 'path.traversal'
 * ```
 */
export function findPathTraversal(
  value: string,
  level: GuardLevel,
  mask = charMask(value),
): PathFinding | undefined {
  const rank = LEVEL_RANK[level];
  if ((mask & (C.DOT | C.SLASH | C.CONTROL | C.COLON | C.PERCENT | C.TILDE | C.NON_ASCII)) === 0)
    return undefined;
  const text = (mask & C.CONFUSABLE) === 0 ? value : foldSlashes(value);
  return (
    dotDotSegment(text) ??
    repeatedDotDot(text) ??
    ((mask & C.CONTROL) !== 0 ? nulByte(text) : undefined) ??
    (text.indexOf('./') !== -1 || text.indexOf('.\\') !== -1 ? dotPadding(text) : undefined) ??
    absolutePath(text, rank)
  );
}

/** Redis glob patterns (`*`, `?`, `[a-z]`, `[^x]`, `\` escapes), for the memory store's SCAN. */

/** A RegExp matching exactly what Redis' `stringmatchlen` matches for `pattern`. */
export function globToRegExp(pattern: string): RegExp {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else if (ch === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]!);
    else if (ch === '[') {
      const end = findClassEnd(pattern, i + 1);
      if (end === -1) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      let negate = false;
      if (body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      let cls = '';
      for (let j = 0; j < body.length; j++) {
        const c = body[j]!;
        if (c === '\\' && j + 1 < body.length) cls += escapeClass(body[++j]!);
        else if (c === '-' && j > 0 && j + 1 < body.length) cls += '-';
        else cls += escapeClass(c);
      }
      source += cls === '' ? (negate ? '[\\s\\S]' : '(?!)') : `[${negate ? '^' : ''}${cls}]`;
      i = end;
    } else source += escapeRegExp(ch);
  }
  return new RegExp(`${source}$`);
}

function findClassEnd(pattern: string, from: number): number {
  for (let i = from; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return -1;
}

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

function escapeClass(ch: string): string {
  return /[\\\]^-]/.test(ch) ? `\\${ch}` : ch;
}

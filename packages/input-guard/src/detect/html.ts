/**
 * A small HTML tokenizer that follows the WHATWG tokenizer where it matters for injection: tag
 * names end at whitespace, `/` or `>`; attribute names may hold quotes and `<`; values are quoted
 * or run to whitespace; a tag left open at the end of the value still counts, because the page
 * around the value will close it. One left-to-right pass.
 */

export interface HtmlAttribute {
  /** Lower-cased name. */
  readonly name: string;
  /** Raw value (character references not decoded), undefined for a bare attribute. */
  readonly value: string | undefined;
  readonly start: number;
  readonly end: number;
}

export interface HtmlTag {
  /** Lower-cased tag name; `!--` for comments, `?` + name for processing instructions. */
  readonly name: string;
  readonly closing: boolean;
  readonly attributes: readonly HtmlAttribute[];
  readonly start: number;
  readonly end: number;
  /** For comments and processing instructions, their content. */
  readonly content?: string;
}

export function isHtmlSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

function isAsciiLetter(c: number): boolean {
  return (c | 0x20) >= 97 && (c | 0x20) <= 122;
}

function parseAttributes(text: string, from: number): { attributes: HtmlAttribute[]; end: number } {
  const attributes: HtmlAttribute[] = [];
  let i = from;
  const n = text.length;
  for (;;) {
    while (i < n && (isHtmlSpace(text.charCodeAt(i)) || text.charCodeAt(i) === 47)) i++;
    if (i >= n) return { attributes, end: n };
    if (text.charCodeAt(i) === 62 /* > */) return { attributes, end: i + 1 };
    const nameStart = i;
    i++; // the first character is part of the name even when it is `=`
    while (i < n) {
      const c = text.charCodeAt(i);
      if (isHtmlSpace(c) || c === 47 || c === 62 || c === 61) break;
      i++;
    }
    const name = text.slice(nameStart, i).toLowerCase();
    let j = i;
    while (j < n && isHtmlSpace(text.charCodeAt(j))) j++;
    if (text.charCodeAt(j) !== 61 /* = */) {
      attributes.push({ name, value: undefined, start: nameStart, end: i });
      continue;
    }
    j++;
    while (j < n && isHtmlSpace(text.charCodeAt(j))) j++;
    const q = text.charCodeAt(j);
    let value: string;
    if (q === 34 || q === 39) {
      const close = text.indexOf(text[j]!, j + 1);
      const end = close === -1 ? n : close;
      value = text.slice(j + 1, end);
      i = close === -1 ? n : close + 1;
    } else {
      let k = j;
      while (k < n && !isHtmlSpace(text.charCodeAt(k)) && text.charCodeAt(k) !== 62) k++;
      value = text.slice(j, k);
      i = k;
    }
    attributes.push({ name, value, start: nameStart, end: i });
  }
}

/**
 * Every tag, comment and processing instruction in `text`, in order.
 *
 * @example
 * ```ts
 * scanHtml('<img src=x onerror=alert(1)>')[0]?.attributes.map((a) => a.name); // ['src', 'onerror']
 * ```
 */
export function scanHtml(text: string, limit = 1000): HtmlTag[] {
  const tags: HtmlTag[] = [];
  let pos = 0;
  let rescanned = false;
  // Once a search for `-->` failed, every later one would too: remember it to stay linear.
  let commentCloseMissingFrom = Number.POSITIVE_INFINITY;
  const n = text.length;
  while (pos < n && tags.length < limit) {
    const lt = text.indexOf('<', pos);
    if (lt === -1 || lt + 1 >= n) break;
    const c = text.charCodeAt(lt + 1);
    if (isAsciiLetter(c) || (c === 47 /* / */ && isAsciiLetter(text.charCodeAt(lt + 2)))) {
      const closing = c === 47;
      let i = lt + (closing ? 2 : 1);
      const nameStart = i;
      while (i < n) {
        const ch = text.charCodeAt(i);
        // `+` is a form-encoded space: `<video+onerror=…>` was written for a query string.
        if (isHtmlSpace(ch) || ch === 47 || ch === 62 || ch === 43) break;
        i++;
      }
      const name = text.slice(nameStart, i).toLowerCase();
      const inner = name.indexOf('<');
      if (inner !== -1) {
        // `<scr<script>ipt>`: the real tag starts inside the name.
        pos = nameStart + inner;
        continue;
      }
      const { attributes, end } = parseAttributes(text, text.charCodeAt(i) === 43 ? i + 1 : i);
      tags.push({ name, closing, attributes, start: lt, end });
      // A tag still open at the end may be hiding markup in an unclosed quote; look inside once.
      if (end >= n && !rescanned) {
        rescanned = true;
        pos = i;
      } else {
        pos = end;
      }
      continue;
    }
    if (c === 33 /* ! */) {
      const isComment = text.startsWith('--', lt + 2);
      let close: number;
      if (isComment) {
        close = lt >= commentCloseMissingFrom ? -1 : text.indexOf('-->', lt + 4);
        if (close === -1) commentCloseMissingFrom = Math.min(commentCloseMissingFrom, lt);
      } else {
        close = text.indexOf('>', lt + 2);
      }
      const end = close === -1 ? n : close + (isComment ? 3 : 1);
      const content = text.slice(lt + (isComment ? 4 : 2), close === -1 ? n : close);
      tags.push({ name: isComment ? '!--' : '!', closing: false, attributes: [], start: lt, end, content });
      // An unclosed comment runs to the end; its content is examined by the caller.
      pos = end;
      continue;
    }
    if (c === 63 /* ? */) {
      const close = text.indexOf('>', lt + 2);
      const end = close === -1 ? n : close + 1;
      let k = lt + 2;
      while (k < n && isAsciiLetter(text.charCodeAt(k))) k++;
      const content = text.slice(lt + 2, close === -1 ? n : close);
      tags.push({
        name: `?${text.slice(lt + 2, k).toLowerCase()}`,
        closing: false,
        attributes: [],
        start: lt,
        end,
        content,
      });
      pos = end;
      continue;
    }
    pos = lt + 1;
  }
  return tags;
}

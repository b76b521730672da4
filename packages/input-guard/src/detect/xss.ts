/**
 * Cross-site scripting by structure: markup that runs script (script-capable elements, event
 * handler attributes, script URLs, CSS expressions), values that break out of an HTML attribute
 * or a JavaScript string, and script URLs on their own. Plain markup such as
 * `<a href="https://…">` or `I <3 you` is not reported.
 */
import type { GuardLevel } from '../types';
import { C, charMask } from './chars';
import { percentDecode } from './decode';
import { type HtmlTag, isHtmlSpace, scanHtml } from './html';
import { activeJavaScript, certainSyntaxError, mayRunCode } from './js';

export interface XssFinding {
  rule: string;
  reason: string;
  start: number;
  end: number;
}

/** Elements that run or load active content whatever their attributes. */
const SCRIPT_ELEMENTS = new Set([
  'script',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'portal',
  'layer',
  'ilayer',
]);
/** Elements that change how the rest of the page loads or is styled. */
const PAGE_ELEMENTS = new Set(['base', 'meta', 'link', 'style', 'xml']);
/**
 * SVG and MathML switch the HTML parser into foreign content, where `<style>`, CDATA and
 * namespace rules differ from HTML: the root of mutation XSS and of sanitiser bypasses.
 * Reported at every level.
 */
const FOREIGN_ELEMENTS = new Set(['svg', 'math']);
/** Elements that switch parser modes or bind behaviour; suspicious in text at `balanced`. */
const SUSPICIOUS_ELEMENTS = new Set([
  'svg',
  'math',
  'xml',
  'import',
  'form',
  'isindex',
  'template',
  'noscript',
  'xmp',
  'plaintext',
  'listing',
  'noembed',
  'noframes',
  'textarea',
  'title',
  'xss',
]);
/** Raw-text elements whose end tag lets a value escape the context it was placed in. */
const CONTEXT_END_TAGS = new Set(['script', 'style', 'title', 'textarea', 'noscript', 'xmp', 'iframe']);

const SCRIPT_SCHEMES = ['javascript:', 'vbscript:', 'livescript:', 'mocha:'];
const ACTIVE_DATA_TYPES = [
  'data:text/html',
  'data:image/svg',
  'data:application/xhtml',
  'data:text/xml',
  'data:application/xml',
  'data:text/javascript',
  'data:application/javascript',
  'data:application/x-',
];

const LEVEL_RANK: Readonly<Record<GuardLevel, number>> = { low: 0, balanced: 1, strict: 2 };

/**
 * What a URL parser sees: ASCII tab and newlines removed anywhere, leading C0 controls and spaces
 * stripped, lower-cased. Character references are decoded by the caller's decoding rounds and by
 * `decodeAttribute` for attribute values.
 */
function urlForm(value: string): string {
  let out = '';
  let leading = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 9 || c === 10 || c === 13 || c === 0) continue;
    if (leading && (c <= 32 || c === 34 || c === 39 || c === 96 || c === 0xfeff || c === 0x200b)) continue;
    leading = false;
    out += value[i];
  }
  return out.toLowerCase();
}

function scriptSchemeIn(url: string): string | undefined {
  for (const scheme of SCRIPT_SCHEMES) if (url.includes(scheme)) return scheme;
  for (const type of ACTIVE_DATA_TYPES) if (url.startsWith(type)) return 'data:';
  return undefined;
}

/** CSS escapes (`\6a`, `\0075 `), comments and whitespace removed; lower-cased. */
export function cssForm(css: string): string {
  let out = '';
  let i = 0;
  let quote = 0;
  while (i < css.length) {
    const c = css.charCodeAt(i);
    // Comment markers inside a CSS string are text; escapes still apply there.
    if (quote !== 0 ? c === quote : c === 34 || c === 39) {
      quote = quote === 0 ? c : 0;
      out += css[i];
      i++;
      continue;
    }
    if (quote === 0 && c === 47 && css.charCodeAt(i + 1) === 42) {
      const close = css.indexOf('*/', i + 2);
      i = close === -1 ? css.length : close + 2;
      continue;
    }
    if (c === 92 /* \ */) {
      let j = i + 1;
      let value = 0;
      while (j < css.length && j - i <= 6) {
        const h = css.charCodeAt(j);
        const d = h >= 48 && h <= 57 ? h - 48 : (h | 0x20) >= 97 && (h | 0x20) <= 102 ? (h | 0x20) - 87 : -1;
        if (d < 0) break;
        value = value * 16 + d;
        j++;
      }
      if (j > i + 1) {
        if (isHtmlSpace(css.charCodeAt(j))) j++;
        out += value > 0 && value <= 0x10ffff ? String.fromCodePoint(value) : '';
        i = j;
        continue;
      }
      i++;
      continue;
    }
    if (c <= 32 && quote === 0) {
      i++;
      continue;
    }
    out += css[i];
    i++;
  }
  return out.toLowerCase();
}

function dangerousCss(css: string): string | undefined {
  const form = cssForm(css);
  if (form.includes('expression(')) return 'a CSS expression()';
  if (form.includes('behavior:') || form.includes('-moz-binding')) return 'a CSS behaviour binding';
  if (form.includes('@import')) return 'a CSS @import';
  if (scriptSchemeIn(form) !== undefined) return 'a script URL in CSS';
  return undefined;
}

/**
 * Malformed CSS in a style attribute: per CSS Syntax, a line break inside a string (bad string),
 * an unquoted `url(` holding quotes, parentheses, controls or inner spaces (bad URL), a brace
 * (there are no blocks in a declaration list) or a control character. The browser's error
 * recovery then starts a new declaration the filter never saw (`font-family:'x⏎;color:red`).
 */
function cssBreakout(css: string): string | undefined {
  let quote = 0;
  for (let i = 0; i < css.length; i++) {
    const c = css.charCodeAt(i);
    if (c === 92 /* \ */) {
      i++;
      continue;
    }
    if (quote !== 0) {
      if (c === quote) quote = 0;
      else if (c === 10 || c === 13 || c === 12) return 'a line break inside a CSS string';
      else if (isCssControl(c)) return 'a control character';
      continue;
    }
    if (c === 34 || c === 39) quote = c;
    else if (c === 123 || c === 125) return 'a brace that leaves the declaration list';
    else if (isCssControl(c)) return 'a control character';
    else if ((c | 0x20) === 117 /* u */ && css.slice(i, i + 4).toLowerCase() === 'url(') {
      const bad = badUrl(css, i + 4);
      if (bad) return 'a malformed url()';
    }
  }
  return undefined;
}

function isCssControl(c: number): boolean {
  return (c < 32 && c !== 9 && c !== 10 && c !== 12 && c !== 13) || c === 127;
}

/** An unquoted `url(` body that the CSS tokenizer turns into a bad-url token. */
function badUrl(css: string, from: number): boolean {
  let i = from;
  while (i < css.length && isHtmlSpace(css.charCodeAt(i))) i++;
  const first = css.charCodeAt(i);
  if (first === 34 || first === 39) return false; // a quoted URL is a string
  for (; i < css.length; i++) {
    const c = css.charCodeAt(i);
    if (c === 41 /* ) */) return false;
    if (c === 92) {
      i++;
      continue;
    }
    if (isHtmlSpace(c)) {
      while (i < css.length && isHtmlSpace(css.charCodeAt(i))) i++;
      return i < css.length && css.charCodeAt(i) !== 41;
    }
    if (c === 34 || c === 39 || c === 40 || c < 32 || c === 127) return true;
  }
  return false;
}

/**
 * Hosts written only to get past URL filters: percent-encoded, IPv4 as one number or with hex or
 * octal parts (`http://0x42.0x66.07.147/`, `http://1113982867/`), tabs or line breaks inside the
 * scheme or host, and IP literals (the cheat sheets' "IP versus hostname").
 */
function disguisedHost(raw: string, url: string): string | undefined {
  const slashes = url.indexOf('//');
  if (slashes === -1 || slashes > 6) return undefined;
  const scheme = url.slice(0, slashes);
  if (!(scheme === '' || scheme === 'http:' || scheme === 'https:' || scheme === 'ftp:')) return undefined;
  let end = slashes + 2;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35 || c === 92) break;
    end++;
  }
  let host = url.slice(slashes + 2, end);
  const at = host.lastIndexOf('@');
  if (at !== -1) host = host.slice(at + 1);
  const colon = host.indexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  if (host.length === 0) return undefined;
  if (host.includes('%')) return 'a percent-encoded host';
  // Tabs and line breaks are removed by the URL parser; nobody types them into a link.
  if (raw.indexOf('\t') !== -1 || raw.indexOf('\n') !== -1 || raw.indexOf('\r') !== -1) {
    const rawHostEnd = raw.indexOf('/', raw.indexOf('//') + 2);
    for (let i = 0; i < (rawHostEnd === -1 ? raw.length : rawHostEnd); i++) {
      const c = raw.charCodeAt(i);
      if (c === 9 || c === 10 || c === 13) return 'a link split by control characters';
    }
  }
  // IPv4 in any notation starts with a digit.
  const h0 = host.charCodeAt(0);
  if (h0 < 48 || h0 > 57) return undefined;
  const parts = host.split('.');
  if (parts.length > 4) return undefined;
  let disguised = parts.length < 4;
  for (const part of parts) {
    if (part.length === 0) return undefined;
    const hex = part.startsWith('0x');
    for (let i = hex ? 2 : 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      const digit = c >= 48 && c <= 57;
      if (!(digit || (hex && (c | 0x20) >= 97 && (c | 0x20) <= 102))) return undefined;
    }
    if (hex || (part.length > 1 && part.charCodeAt(0) === 48)) disguised = true;
  }
  // `http://12345/` is a port-less local name or a number; only a full 32-bit address is a disguise.
  if (parts.length === 1 && !parts[0]!.startsWith('0x') && Number(parts[0]) < 0x1000000) return undefined;
  return disguised ? 'an IP address in disguise' : 'an IP address instead of a host name';
}

/**
 * A name that lenient parsers (old browsers, regex-based sanitisers) read as an event handler:
 * `onload!#$%=…` (junk after the name), or a handler hidden in a malformed tag name
 * (`<img[a]src[b]=x[c]onerror=…>`, which HTML5 reads as one long element name).
 */
function lenientHandler(name: string, inTagName: boolean): boolean {
  let from = 0;
  for (;;) {
    const at = name.indexOf('on', from);
    if (at === -1) return false;
    from = at + 2;
    if (inTagName ? at === 0 || isLetterOrDigit(name.charCodeAt(at - 1)) : at !== 0) continue;
    let i = at + 2;
    while (i < name.length && name.charCodeAt(i) >= 97 && name.charCodeAt(i) <= 122) i++;
    if (i - at < 5) continue;
    if (!inTagName) {
      // Only punctuation may follow the letters, or it is just a longer (unknown) name.
      if (i === name.length) return false;
      for (let k = i; k < name.length; k++) if (isLetterOrDigit(name.charCodeAt(k))) return false;
      return true;
    }
    while (i < name.length && !isLetterOrDigit(name.charCodeAt(i)) && name.charCodeAt(i) !== 61) i++;
    if (name.charCodeAt(i) === 61) return true;
  }
}

function isLetter(c: number): boolean {
  return (c | 0x20) >= 97 && (c | 0x20) <= 122;
}

function isLetterOrDigit(c: number): boolean {
  return ((c | 0x20) >= 97 && (c | 0x20) <= 122) || (c >= 48 && c <= 57);
}

function decodeAttribute(value: string): string {
  // Browsers decode character references in attribute values before using them.
  if (value.indexOf('&') === -1) return value;
  let out = '';
  let i = 0;
  while (i < value.length) {
    if (value.charCodeAt(i) === 38 && value.charCodeAt(i + 1) === 35) {
      const hex = (value.charCodeAt(i + 2) | 0x20) === 120;
      let j = i + (hex ? 3 : 2);
      let cp = 0;
      const first = j;
      while (j < value.length && j - first < 8) {
        const h = value.charCodeAt(j);
        const d =
          h >= 48 && h <= 57 ? h - 48 : hex && (h | 0x20) >= 97 && (h | 0x20) <= 102 ? (h | 0x20) - 87 : -1;
        if (d < 0) break;
        cp = cp * (hex ? 16 : 10) + d;
        j++;
      }
      if (j > first) {
        if (value.charCodeAt(j) === 59) j++;
        out += cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
        i = j;
        continue;
      }
    }
    out += value[i];
    i++;
  }
  return out;
}

/** Letters, digits, `-`, `:` and `_`: what element names are made of (custom elements included). */
function isPlainTagName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!(isLetterOrDigit(c) || c === 45 || c === 58 || c === 95 || c === 46)) return false;
  }
  return true;
}

function isEventHandlerName(name: string): boolean {
  if (name.length < 5 || !name.startsWith('on')) return false;
  for (let i = 2; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 97 || c > 122) return false;
  }
  return true;
}

function tagAt(raw: HtmlTag, rule: string, reason: string): XssFinding {
  return { rule, reason, start: raw.start, end: raw.end };
}

function tagFinding(raw: HtmlTag, rank: number, depth: number): XssFinding | undefined {
  // `html:script` is a script element in XHTML.
  const colon = raw.name.lastIndexOf(':');
  const tag = colon === -1 ? raw : { ...raw, name: raw.name.slice(colon + 1) };
  if (tag.name === '!--' || tag.name === '!') {
    // Markup hidden in comments still reaches browsers through conditional comments and
    // sanitiser/parser disagreements (`<!--<img src="--><img src=x onerror=…>`).
    if (depth < 2 && tag.content !== undefined) {
      const inner = findInMarkup(tag.content, rank, depth + 1);
      if (inner !== undefined) return tagAt(raw, 'xss.hidden-markup', 'XSS: a comment hides active markup');
    }
    if (rank >= 1 && tag.content !== undefined && tag.content.trimStart().toLowerCase().startsWith('[if')) {
      return tagAt(raw, 'xss.conditional-comment', 'XSS: contains an IE conditional comment');
    }
    return rank >= 2 ? tagAt(raw, 'xss.markup', 'XSS: contains HTML markup') : undefined;
  }
  if (tag.name.startsWith('?')) {
    if (tag.name === '?php' || tag.name === '?') return undefined; // server code: the command detector
    return rank >= 1
      ? tagAt(raw, 'xss.processing-instruction', 'XSS: contains an XML processing instruction')
      : undefined;
  }
  if (tag.closing) {
    if (CONTEXT_END_TAGS.has(tag.name) && (tag.name === 'script' || rank >= 1)) {
      return tagAt(
        raw,
        'xss.context-breakout',
        `XSS: closes a <${tag.name}> element the value may be placed in`,
      );
    }
    return rank >= 2 ? tagAt(raw, 'xss.markup', 'XSS: contains HTML markup') : undefined;
  }
  if (SCRIPT_ELEMENTS.has(tag.name))
    return tagAt(raw, 'xss.script-element', `XSS: contains a <${tag.name}> element`);
  if (!isPlainTagName(tag.name) && lenientHandler(tag.name, true))
    return tagAt(raw, 'xss.event-handler', 'XSS: a malformed tag hides an event handler');
  for (const attribute of tag.attributes) {
    if (
      isEventHandlerName(attribute.name) ||
      (rank >= 1 && attribute.name.startsWith('on') && attribute.name.length > 4) ||
      lenientHandler(attribute.name, false)
    ) {
      return tagAt(
        raw,
        'xss.event-handler',
        `XSS: has an ${attribute.name.slice(0, 24)} event handler attribute`,
      );
    }
    if (attribute.value === undefined) continue;
    const value = decodeAttribute(attribute.value);
    if (value.startsWith('&{') && value.includes('}'))
      return tagAt(raw, 'xss.script-entity', 'XSS: an attribute holds a JavaScript entity');
    const url = urlForm(value);
    const scheme = scriptSchemeIn(url);
    if (scheme !== undefined) return tagAt(raw, 'xss.script-url', `XSS: an attribute holds a ${scheme} URL`);
    if (attribute.name === 'style') {
      const css = dangerousCss(value) ?? cssBreakout(value);
      if (css !== undefined) return tagAt(raw, 'xss.css', `XSS: a style attribute holds ${css}`);
    }
    if (url.indexOf('//') !== -1) {
      const host = disguisedHost(value, url);
      if (host !== undefined) return tagAt(raw, 'xss.url-evasion', `XSS: a URL attribute holds ${host}`);
    }
    if (attribute.name === 'srcdoc' && depth < 2) {
      const inner = findInMarkup(value, rank, depth + 1);
      if (inner !== undefined) return tagAt(raw, 'xss.srcdoc', 'XSS: an iframe srcdoc holds active markup');
    }
  }
  if (FOREIGN_ELEMENTS.has(tag.name))
    return tagAt(raw, 'xss.foreign-content', `XSS: contains a <${tag.name}> element (foreign content)`);
  if (PAGE_ELEMENTS.has(tag.name)) {
    if (tag.name === 'style' || tag.attributes.length > 0 || rank >= 1) {
      return tagAt(raw, 'xss.page-element', `XSS: contains a <${tag.name}> element`);
    }
  }
  if (rank >= 1 && SUSPICIOUS_ELEMENTS.has(tag.name))
    return tagAt(raw, 'xss.suspicious-element', `XSS: contains a <${tag.name}> element`);
  if (rank >= 2) return tagAt(raw, 'xss.markup', 'XSS: contains HTML markup');
  return undefined;
}

function findInMarkup(text: string, rank: number, depth: number): XssFinding | undefined {
  if (text.indexOf('<') === -1) return undefined;
  const tags = scanHtml(text);
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i]!;
    const finding = tagFinding(tag, rank, depth);
    if (finding !== undefined) return finding;
    // <style> content is CSS.
    if (tag.name === 'style' && !tag.closing) {
      const close = text.toLowerCase().indexOf('</style', tag.end);
      const css = dangerousCss(text.slice(tag.end, close === -1 ? text.length : close));
      if (css !== undefined)
        return {
          rule: 'xss.css',
          reason: `XSS: a <style> element holds ${css}`,
          start: tag.start,
          end: tag.end,
        };
    }
  }
  return undefined;
}

/** `" onfocus=alert(1) x="`: a value that leaves an attribute value and adds an event handler. */
/** A boundary then `on` and a letter: where an event handler attribute may start. */
const HANDLER_START = /[\t\n\f\r "'`/]on[a-z]/gi;

/** The next `on` at `from` or later that starts a value or follows a space, quote or slash. */
function nextHandlerStart(text: string, from: number): number {
  if (from === 0 && (text.charCodeAt(0) | 0x20) === 111 && (text.charCodeAt(1) | 0x20) === 110) return 0;
  HANDLER_START.lastIndex = Math.max(0, from - 1);
  return HANDLER_START.test(text) ? HANDLER_START.lastIndex - 3 : -1;
}

function attributeBreakout(text: string, rank: number): XssFinding | undefined {
  let from = 0;
  for (;;) {
    const at = nextHandlerStart(text, from);
    if (at === -1) return undefined;
    from = at + 2;
    let i = at + 2;
    while (i < text.length && isLetter(text.charCodeAt(i))) i++;
    if (i - at < 5) continue;
    let j = i;
    while (j < text.length && isHtmlSpace(text.charCodeAt(j))) j++;
    if (text.charCodeAt(j) !== 61 /* = */) continue;
    j++;
    while (j < text.length && isHtmlSpace(text.charCodeAt(j))) j++;
    // The handler needs a body; at `low` it must look like code, not a word.
    let k = j;
    let code = false;
    while (k < text.length && !isHtmlSpace(text.charCodeAt(k)) && text.charCodeAt(k) !== 62) {
      const c = text.charCodeAt(k);
      if (c === 40 || c === 96 || c === 61 || c === 58 || c === 46 || c === 59) code = true;
      k++;
    }
    if (k === j) continue;
    const quoted = text.charCodeAt(j) === 34 || text.charCodeAt(j) === 39;
    if (code || quoted || rank >= 1) {
      return {
        rule: 'xss.attribute-breakout',
        reason: `XSS: adds an ${text.slice(at, i).toLowerCase().slice(0, 24)} event handler attribute`,
        start: at,
        end: k,
      };
    }
  }
}

/** The whole value is a script URL (`javascript:…`), for fields rendered as links. */
function scriptUrlValue(text: string, rank: number): XssFinding | undefined {
  const url = urlForm(text);
  for (const scheme of SCRIPT_SCHEMES) {
    if (!url.startsWith(scheme)) continue;
    // The body of a javascript: URL is percent-decoded before it runs (`//%0aalert(1)`).
    const js = activeJavaScript(percentDecode(url.slice(scheme.length)));
    if (js || rank >= 1) {
      return {
        rule: 'xss.script-url',
        reason: `XSS: the value is a ${scheme} URL`,
        start: 0,
        end: text.length,
      };
    }
  }
  for (const type of ACTIVE_DATA_TYPES) {
    if (url.startsWith(type)) {
      return {
        rule: 'xss.script-url',
        reason: 'XSS: the value is a data: URL with active content',
        start: 0,
        end: text.length,
      };
    }
  }
  return undefined;
}

function hasSpace(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isHtmlSpace(text.charCodeAt(i))) return true;
  return false;
}

/** Reads an identifier path (`a.b['c']`) and reports whether a call (`(` or a template) follows. */
function callFollows(text: string, from: number): boolean {
  let i = from;
  while (i < text.length && text.charCodeAt(i) === 32) i++;
  const start = i;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const word = (c | 0x20) >= 97 && (c | 0x20) <= 122;
    if (word || (c >= 48 && c <= 57) || c === 95 || c === 36 || c === 46) i++;
    else break;
  }
  if (i === start) return false;
  while (i < text.length && text.charCodeAt(i) === 32) i++;
  return text.charCodeAt(i) === 40 || text.charCodeAt(i) === 96;
}

/**
 * `&{alert(1)};`: a Netscape JavaScript entity, evaluated wherever character references are
 * (attribute values); in a value it only waits for the attribute it will be placed in.
 */
function scriptEntity(text: string): XssFinding | undefined {
  const at = text.indexOf('&{');
  if (at === -1) return undefined;
  const close = text.indexOf('}', at + 2);
  if (close === -1) return undefined;
  return {
    rule: 'xss.script-entity',
    reason: 'XSS: contains a JavaScript entity',
    start: at,
    end: close + 1,
  };
}

/** `…"javascript:alert(1)"…` inside other text (Flash `getURL`, broken markup, CDATA tricks). */
function embeddedScriptUrl(text: string): XssFinding | undefined {
  const lower = text.toLowerCase();
  for (const scheme of SCRIPT_SCHEMES) {
    let from = 0;
    for (;;) {
      const at = lower.indexOf(scheme, from);
      if (at === -1) break;
      from = at + scheme.length;
      if (callFollows(lower, from)) {
        return {
          rule: 'xss.script-url',
          reason: `XSS: contains a ${scheme} URL that calls a function`,
          start: at,
          end: from,
        };
      }
    }
  }
  return undefined;
}

/**
 * After the quote that closes the application's string, JavaScript goes on with an operator,
 * punctuation, a line break, `in`/`instanceof`, or nothing. A word or a number there (`'She
 * said'`, `O'Brien`) is a syntax error, so the parser is not even started.
 */
function jsMayContinue(text: string, at: number): boolean {
  let i = at + 1;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  if (i >= text.length) return false;
  const c = text.charCodeAt(i);
  if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) return true;
  const letter = (c | 0x20) >= 97 && (c | 0x20) <= 122;
  if (letter) return text.startsWith('in', i) || text.startsWith('instanceof', i);
  if ((c >= 48 && c <= 57) || c === 39 || c === 34 || c === 95 || c === 36 || c > 127) return false;
  return true;
}

/** The first `quote` not escaped by a backslash: where the application's string would end. */
function closingQuote(text: string, quote: string): number {
  let at = text.indexOf(quote);
  while (at !== -1) {
    let slashes = 0;
    while (at - slashes > 0 && text.charCodeAt(at - slashes - 1) === 92) slashes++;
    if (slashes % 2 === 0) return at;
    at = text.indexOf(quote, at + 1);
  }
  return -1;
}

/**
 * Can the application's own closing quote, appended after the value, still be part of valid
 * JavaScript? Only if the quotes after the breakout leave a string open for it, or something
 * (a comment, a regular expression, a template, another kind of string, an escape) may swallow
 * it; otherwise the result is an unterminated string and the parser need not be started.
 */
function closingQuoteFits(text: string, at: number, quote: number): boolean {
  if (quote === 96) return true;
  let count = 0;
  for (let i = at + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === quote) count++;
    else if (c === 47 || c === 92 || c === 96 || c === 34 || c === 39) return true;
  }
  return count % 2 === 1;
}

/** `';alert(1)//`, `"-alert(1)-"`: a value that leaves a JavaScript string literal and runs code. */
function javascriptBreakout(text: string, rank: number): XssFinding | undefined {
  const hasCodeChar = text.indexOf('(') !== -1 || text.indexOf('`') !== -1 || text.indexOf('=') !== -1;
  if (!hasCodeChar) return undefined;
  for (const quote of ["'", '"', '`']) {
    const at = closingQuote(text, quote);
    if (at === -1 || !jsMayContinue(text, at)) continue;
    if (!mayRunCode(text, at + 1) || !closingQuoteFits(text, at, quote.charCodeAt(0))) continue;
    if (certainSyntaxError(text, at + 1)) continue;
    const js = activeJavaScript(text, `x=${quote}`, quote);
    if (js) {
      return {
        rule: 'xss.js-breakout',
        reason: 'XSS: the value leaves a JavaScript string and runs code',
        start: js.start,
        end: js.end,
      };
    }
  }
  // `}alert(1);{//`: leaving a block or an argument list instead of a string.
  const first = text.trimStart().charCodeAt(0);
  const opener = first === 125 ? '{' : first === 41 ? 'f(' : first === 93 ? '[' : undefined;
  if (opener !== undefined && mayRunCode(text, 0)) {
    const js = activeJavaScript(text, opener, '\n}');
    if (js)
      return {
        rule: 'xss.js-breakout',
        reason: 'XSS: the value leaves a JavaScript block and runs code',
        start: js.start,
        end: js.end,
      };
  }
  // Bare JavaScript (`alert(1)`) only when written like code: prose has spaces (`Psycho (1960)`).
  if (rank >= 1 && text.indexOf('(') !== -1 && !hasSpace(text) && mayRunCode(text, 0)) {
    const js = activeJavaScript(text);
    if (js)
      return {
        rule: 'xss.javascript',
        reason: 'XSS: the value is JavaScript that runs code',
        start: js.start,
        end: js.end,
      };
  }
  return undefined;
}

/**
 * `{{constructor.constructor('alert(1)')()}}`: a client-side (AngularJS-style) template expression
 * that runs code. `{{user.name}}` runs nothing and passes.
 */
function templateExpression(text: string): XssFinding | undefined {
  const open = text.indexOf('{{');
  if (open === -1) return undefined;
  const close = text.indexOf('}}', open + 2);
  if (close === -1) return undefined;
  const js = activeJavaScript(text.slice(open + 2, close), '(', ')');
  return js
    ? {
        rule: 'xss.template-expression',
        reason: 'XSS: a template expression runs code',
        start: open,
        end: close + 2,
      }
    : undefined;
}

/**
 * Looks for cross-site scripting in one (already decoded) value.
 *
 * @example
 * ```ts
 * findXss('<svg/onload=alert(1)>', 'low')?.rule; // 'xss.event-handler'
 * findXss('I <3 you', 'low'); // undefined
 * ```
 */
export function findXss(text: string, level: GuardLevel, mask = charMask(text)): XssFinding | undefined {
  const rank = LEVEL_RANK[level];
  // Script URLs need a scheme; tabs and newlines may split it (`java\tscript:`).
  const schemes =
    (mask & C.COLON) !== 0 && (mentionsScheme(text) || (mask & (C.TAB | C.NEWLINE | C.CONTROL)) !== 0);
  const code = (mask & (C.PAREN | C.BACKTICK | C.EQUALS)) !== 0;
  return (
    ((mask & C.ANGLE) !== 0 ? findInMarkup(text, rank, 0) : undefined) ??
    (schemes ? scriptUrlValue(text, rank) : undefined) ??
    (schemes ? embeddedScriptUrl(text) : undefined) ??
    ((mask & C.EQUALS) !== 0 ? attributeBreakout(text, rank) : undefined) ??
    ((mask & C.BRACE) !== 0 && (mask & C.SEPARATOR) !== 0 ? scriptEntity(text) : undefined) ??
    (code && (mask & (C.QUOTE | C.BACKTICK | C.BRACE | C.PAREN)) !== 0
      ? javascriptBreakout(text, rank)
      : undefined) ??
    ((mask & C.BRACE) !== 0 ? templateExpression(text) : undefined)
  );
}

/** `…script:`, `data:`, `mocha:` (any case): a scheme that may run script, found from the colons. */
function mentionsScheme(text: string): boolean {
  let colon = text.indexOf(':');
  while (colon !== -1) {
    if (
      wordBefore(text, colon, 'script') ||
      wordBefore(text, colon, 'data') ||
      wordBefore(text, colon, 'mocha')
    )
      return true;
    colon = text.indexOf(':', colon + 1);
  }
  return false;
}

/** Whether `word` (lower case) ends at `end` in `text`, in any case. */
function wordBefore(text: string, end: number, word: string): boolean {
  const start = end - word.length;
  if (start < 0) return false;
  for (let k = 0; k < word.length; k++) {
    if ((text.charCodeAt(start + k) | 0x20) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * JavaScript context analysis with acorn: does a piece of text, placed where the application
 * would put it, parse as JavaScript that does something (calls, assignments, `new`, tagged
 * templates, dynamic import)? Parsing is the structural test; no list of function names.
 */
import { parse } from 'acorn';

/** Node types that execute something when evaluated. */
const ACTIVE_NODES = new Set([
  'CallExpression',
  'NewExpression',
  'TaggedTemplateExpression',
  'AssignmentExpression',
  'UpdateExpression',
  'ImportExpression',
]);

interface AnyNode {
  type: string;
  start: number;
  end: number;
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as AnyNode).type === 'string';
}

/** The first active node whose start is at or after `from`, walking at most `budget` nodes. */
function findActive(root: AnyNode, from: number, budget = 5000): AnyNode | undefined {
  const stack: AnyNode[] = [root];
  let seen = 0;
  while (stack.length > 0 && seen++ < budget) {
    const node = stack.pop()!;
    if (ACTIVE_NODES.has(node.type) && node.start >= from) return node;
    for (const key in node) {
      if (key === 'type' || key === 'start' || key === 'end') continue;
      const value = (node as unknown as Record<string, unknown>)[key];
      if (Array.isArray(value)) {
        for (const item of value) if (isNode(item)) stack.push(item);
      } else if (isNode(value)) {
        stack.push(value);
      }
    }
  }
  return undefined;
}

function isIdentifierPart(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 95 || c === 36 || c > 127;
}

/**
 * A necessary condition for an active node (see `ACTIVE_NODES`) in `text` from `from` on: a
 * call or tagged template (`(` or a backtick after something callable), an assignment (`=` that
 * is not `==`, `=>`, `<=`, `>=` or `!=`), `++`/`--`, or `new`. Text without any of them (most
 * text with quotes and brackets) is not worth a parse.
 */
export function mayRunCode(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 || c === 96) {
      // A call unless what precedes is an operator or an opening bracket (or nothing): then the
      // bracket only groups. Comments, `?.`, `}` and non-ASCII count as possible callees.
      let k = i - 1;
      while (k >= from && text.charCodeAt(k) <= 32) k--;
      if (k < from) continue;
      if (!GROUPING_BEFORE.has(text.charCodeAt(k))) return true;
    } else if (c === 61) {
      // Any `=` but `==`, `===`, `!=`, `!==` and `=>`; `<=` and `>=` too, since `<<=` assigns.
      const next = text.charCodeAt(i + 1);
      const prev = i > 0 ? text.charCodeAt(i - 1) : 0;
      if (next === 61) {
        i++;
        while (text.charCodeAt(i + 1) === 61) i++;
        continue;
      }
      if (next !== 62 && prev !== 33) return true;
    } else if ((c === 43 || c === 45) && text.charCodeAt(i + 1) === c) {
      return true;
    } else if (c === 110 && text.startsWith('new', i)) {
      // Non-ASCII around it may be a space (U+00A0): only ASCII word characters rule `new` out.
      const before = i > 0 ? text.charCodeAt(i - 1) : 32;
      const after = text.charCodeAt(i + 3);
      if (!(before < 128 && isIdentifierPart(before)) && !(after < 128 && isIdentifierPart(after)))
        return true;
    }
  }
  return false;
}

/** Characters after which `(` or a backtick cannot call anything. */
const GROUPING_BEFORE: ReadonlySet<number> = new Set(
  [...'(,;=:[{!&|+-*%<>^~?'].map((ch) => ch.charCodeAt(0)),
);

/** Words after which another operand may follow without an operator (`typeof x`, `a in b`). */
const OPERAND_WORDS = new Set([
  'await',
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'export',
  'extends',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'let',
  'new',
  'of',
  'return',
  'static',
  'switch',
  'throw',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'yield',
  'async',
  'get',
  'set',
]);

/**
 * True when the JavaScript from `from` on certainly has a syntax error on its first line: two
 * operands in a row (`a href`, `'x' y`, `1 000`) with no operator between them. Stops, answering
 * false, at anything it does not follow (`/`, templates, escapes, line breaks, where automatic
 * semicolons apply). Prose with quotes fails here in a few characters, without a parse.
 */
export function certainSyntaxError(text: string, from: number): boolean {
  let operand = false; // the previous token ends an operand
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    // Non-ASCII may be a space (U+00A0, U+3000…) or part of a word: not followed.
    if (c > 127) return false;
    if (isIdentifierPart(c)) {
      const start = i;
      while (i < text.length && text.charCodeAt(i) < 128 && isIdentifierPart(text.charCodeAt(i))) i++;
      // A word running into non-ASCII may continue, or end at a line separator: not followed.
      if (text.charCodeAt(i) > 127) return false;
      const word = text.slice(start, i);
      if (operand && word !== 'in' && word !== 'instanceof' && word !== 'of') return true;
      operand = !OPERAND_WORDS.has(word);
      continue;
    }
    if (c === 39 || c === 34) {
      if (operand) return true;
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== c) {
        if (text.charCodeAt(j) === 92 || text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13) return false;
        j++;
      }
      if (j >= text.length) return false;
      i = j + 1;
      operand = true;
      continue;
    }
    // Comments, regular expressions, templates, escapes, private names, line breaks (automatic
    // semicolons) and `<!--`/`-->` (comments in scripts, Annex B) are not followed. Punctuation
    // ends no operand: `)` may close `if (…)`, after which a statement follows.
    if (
      c === 47 ||
      c === 96 ||
      c === 92 ||
      c === 10 ||
      c === 13 ||
      c === 35 ||
      c === 64 ||
      c === 0x2028 ||
      c === 0x2029 ||
      (c === 60 && text.charCodeAt(i + 1) === 33) ||
      (c === 45 && text.charCodeAt(i + 1) === 45 && text.charCodeAt(i + 2) === 62)
    )
      return false;
    operand = false;
    i++;
  }
  return false;
}

const MAX_NESTING = 128;

const PARSE_OPTIONS = {
  ecmaVersion: 'latest',
  sourceType: 'script',
  allowReturnOutsideFunction: true,
  allowHashBang: true,
} as const;

function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) {
      if (++depth > max) max = depth;
    } else if ((c === 41 || c === 93 || c === 125) && depth > 0) {
      depth--;
    }
  }
  return max;
}

/**
 * Parses `prefix + text + suffix` as a script; returns the span (in `text` offsets) of the first
 * active expression that starts inside `text`, `null` when it parses but does nothing, and
 * `undefined` when it does not parse.
 */
export function activeJavaScript(
  text: string,
  prefix = '',
  suffix = '',
): { start: number; end: number } | null | undefined {
  // Deep nesting only makes the recursive parser slow (or overflow); no payload needs it.
  if (nestingDepth(text) > MAX_NESTING) return undefined;
  let program: AnyNode;
  // Most text fails to parse, and acorn reports that with a SyntaxError: capturing its stack
  // trace costs more than the parse. Nothing here reads the stack.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    program = parse(prefix + text + suffix, PARSE_OPTIONS) as unknown as AnyNode;
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  const active = findActive(program, prefix.length);
  if (active === undefined) return null;
  const start = Math.max(0, active.start - prefix.length);
  return { start, end: Math.min(text.length, Math.max(start, active.end - prefix.length)) };
}

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

const MAX_NESTING = 128;

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
  try {
    program = parse(prefix + text + suffix, {
      ecmaVersion: 'latest',
      sourceType: 'script',
      allowReturnOutsideFunction: true,
      allowHashBang: true,
    }) as unknown as AnyNode;
  } catch {
    return undefined;
  }
  const active = findActive(program, prefix.length);
  if (active === undefined) return null;
  const start = Math.max(0, active.start - prefix.length);
  return { start, end: Math.min(text.length, Math.max(start, active.end - prefix.length)) };
}

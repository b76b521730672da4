/**
 * Static analysis of user code (workflow "code" nodes) with acorn, before it is stored or run:
 * no module system, no host globals, no `eval`/`Function`, no reaching `Function` through
 * `constructor`, no prototype pollution, no loops that cannot end. This is defence in depth and
 * good error messages; the hard boundary is `runSandboxed`.
 */
import { parse } from 'acorn';
import { InputGuardError } from './errors';
import type { CodeFinding, CodeSafetyOptions, CodeSafetyResult } from './types';

/** Host globals and capabilities user code must not name. */
const FORBIDDEN_GLOBALS = new Set([
  'require',
  'module',
  'exports',
  'process',
  'global',
  'globalThis',
  'window',
  'self',
  'frames',
  'parent',
  'top',
  'eval',
  'Function',
  'AsyncFunction',
  'GeneratorFunction',
  'Buffer',
  'WebAssembly',
  'SharedArrayBuffer',
  'Atomics',
  'fetch',
  'XMLHttpRequest',
  'WebSocket',
  'importScripts',
  'Worker',
  'Deno',
  'Bun',
  '__dirname',
  '__filename',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'queueMicrotask',
]);

/** Properties that lead to `Function`, the prototype chain or the caller's frames. */
const FORBIDDEN_PROPERTIES = new Set([
  'constructor',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'caller',
  'callee',
  'arguments',
]);

/** Calls that rewire prototypes. */
const PROTOTYPE_SETTERS = new Set(['setPrototypeOf', 'defineProperty', 'defineProperties', '__proto__']);

interface Node {
  type: string;
  start: number;
  end: number;
  loc?: { start: { line: number; column: number } };
  [key: string]: unknown;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as Node).type === 'string';
}

function children(node: Node): Node[] {
  const out: Node[] = [];
  for (const key in node) {
    if (key === 'loc' || key === 'type') continue;
    const value = node[key];
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) out.push(item);
    } else if (isNode(value)) {
      out.push(value);
    }
  }
  return out;
}

function propertyName(member: Node): string | undefined {
  const property = member.property as Node;
  if (!member.computed && property.type === 'Identifier') return property.name as string;
  if (property.type === 'Literal' && typeof property.value === 'string') return property.value;
  if (property.type === 'TemplateLiteral' && (property.expressions as Node[]).length === 0) {
    return ((property.quasis as Node[])[0]?.value as { cooked?: string } | undefined)?.cooked;
  }
  return undefined;
}

function isConstantTrue(test: Node | null | undefined): boolean {
  if (test === null || test === undefined) return true; // for (;;)
  if (test.type === 'Literal') return Boolean(test.value);
  if (
    test.type === 'UnaryExpression' &&
    test.operator === '!' &&
    (test.argument as Node).type === 'Literal'
  ) {
    return !(test.argument as Node).value;
  }
  return false;
}

const FUNCTION_NODES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
const LOOP_NODES = new Set([
  'WhileStatement',
  'DoWhileStatement',
  'ForStatement',
  'ForInStatement',
  'ForOfStatement',
]);

/** Does the loop body leave the loop: `break` (its own), `return`, `throw`, or a labelled break? */
function hasExit(body: Node): boolean {
  const stack: Array<{ node: Node; nested: boolean }> = [{ node: body, nested: false }];
  while (stack.length > 0) {
    const { node, nested } = stack.pop()!;
    if (FUNCTION_NODES.has(node.type)) continue;
    if (node.type === 'ReturnStatement' || node.type === 'ThrowStatement') return true;
    if (node.type === 'BreakStatement' && (node.label !== null || !nested)) return true;
    const inner = nested || LOOP_NODES.has(node.type) || node.type === 'SwitchStatement';
    for (const child of children(node)) stack.push({ node: child, nested: inner });
  }
  return false;
}

/** acorn appends ` (line:column)` to its messages; the finding carries them separately. */
function withoutPosition(message: string): string {
  const open = message.lastIndexOf(' (');
  return open !== -1 && message.endsWith(')') ? message.slice(0, open) : message;
}

/**
 * Checks user code statically and lists every finding (empty when the code is acceptable).
 *
 * @example
 * ```ts
 * analyzeCode('return input.items.map((x) => x * 2);').ok; // true
 * analyzeCode("return this.constructor.constructor('return process')()").findings[0]?.rule; // 'code.constructor-access'
 * ```
 */
export function analyzeCode(code: string, options: CodeSafetyOptions = {}): CodeSafetyResult {
  const maxLength = options.maxLength ?? 50_000;
  const maxNodes = options.maxNodes ?? 20_000;
  const findings: CodeFinding[] = [];
  if (code.length > maxLength) {
    return {
      ok: false,
      findings: [
        { rule: 'code.too-long', message: `Code is longer than ${maxLength} characters`, line: 1, column: 0 },
      ],
    };
  }
  let program: Node;
  try {
    program = parse(code, {
      ecmaVersion: 'latest',
      sourceType: 'script',
      allowReturnOutsideFunction: true,
      locations: true,
    }) as unknown as Node;
  } catch (error) {
    const loc = (error as { loc?: { line: number; column: number } }).loc;
    return {
      ok: false,
      findings: [
        {
          rule: 'code.syntax-error',
          message: `Code does not parse: ${withoutPosition((error as Error).message)}`,
          line: loc?.line ?? 1,
          column: loc?.column ?? 0,
        },
      ],
    };
  }
  const allowed = new Set(options.allowGlobals ?? []);
  const add = (node: Node, rule: string, message: string) => {
    if (findings.length < 50) {
      findings.push({ rule, message, line: node.loc?.start.line ?? 1, column: node.loc?.start.column ?? 0 });
    }
  };
  const stack: Node[] = [program];
  let visited = 0;
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (++visited > maxNodes) {
      add(node, 'code.too-complex', `Code has more than ${maxNodes} syntax nodes`);
      break;
    }
    switch (node.type) {
      case 'Identifier':
        if (FORBIDDEN_GLOBALS.has(node.name as string) && !allowed.has(node.name as string)) {
          add(
            node,
            'code.forbidden-global',
            `Code uses ${node.name as string}, which is not available to workflow code`,
          );
        }
        break;
      case 'ImportExpression':
        add(node, 'code.import', 'Code loads modules with import()');
        break;
      case 'ImportDeclaration':
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
      case 'ExportAllDeclaration':
        add(node, 'code.import', 'Code uses import/export');
        break;
      case 'MetaProperty':
        add(node, 'code.import', 'Code reads import.meta or new.target');
        break;
      case 'WithStatement':
        add(node, 'code.with', 'Code uses a with statement');
        break;
      case 'DebuggerStatement':
        add(node, 'code.debugger', 'Code uses a debugger statement');
        break;
      case 'MemberExpression': {
        const name = propertyName(node);
        if (name !== undefined && FORBIDDEN_PROPERTIES.has(name)) {
          add(
            node,
            name === 'constructor' ? 'code.constructor-access' : 'code.forbidden-property',
            `Code reads .${name}`,
          );
        } else if (name === 'prototype') {
          add(node, 'code.prototype-access', 'Code reaches a prototype');
        } else if (name === undefined && (node.property as Node).type === 'BinaryExpression') {
          add(node, 'code.dynamic-property', 'Code builds a property name from strings');
        }
        break;
      }
      case 'CallExpression': {
        const callee = node.callee as Node;
        if (callee.type === 'MemberExpression') {
          const name = propertyName(callee);
          if (name !== undefined && PROTOTYPE_SETTERS.has(name)) {
            add(node, 'code.prototype-pollution', `Code calls ${name}, which can rewrite prototypes`);
          }
        }
        break;
      }
      case 'WhileStatement':
      case 'DoWhileStatement':
      case 'ForStatement':
        if (isConstantTrue(node.test as Node | null) && !hasExit(node.body as Node)) {
          add(node, 'code.infinite-loop', 'Code has a loop that can never end');
        }
        break;
      default:
        break;
    }
    // Property keys and non-computed member names are names, not references to globals.
    for (const child of children(node)) {
      if (node.type === 'MemberExpression' && !node.computed && child === node.property) continue;
      if (
        (node.type === 'Property' ||
          node.type === 'MethodDefinition' ||
          node.type === 'PropertyDefinition') &&
        !node.computed &&
        child === node.key
      ) {
        if ((child as Node).type === 'Identifier' && child.name === '__proto__')
          add(child, 'code.forbidden-property', 'Code sets __proto__');
        continue;
      }
      stack.push(child);
    }
  }
  findings.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: findings.length === 0, findings };
}

/**
 * Throws `UNSAFE_CODE` (400) when `analyzeCode` has findings; `details.findings` lists rule, line
 * and column (never the code itself).
 *
 * @example
 * ```ts
 * assertSafeCode(node.config.code); // before saving a workflow
 * ```
 */
export function assertSafeCode(code: string, options: CodeSafetyOptions = {}): void {
  const { ok, findings } = analyzeCode(code, options);
  if (ok) return;
  throw new InputGuardError('UNSAFE_CODE', findings[0]!.message, {
    details: { findings: findings.map(({ rule, line, column }) => ({ rule, line, column })) },
  });
}

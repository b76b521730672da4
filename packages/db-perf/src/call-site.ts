/**
 * Call sites: where in the application a query was issued. The stack is captured unformatted when a
 * query is built (V8 formats `stack` lazily), and only read when a call site is actually needed: a
 * slow query, or a fingerprint repeated inside one unit of work.
 */
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where a query was issued from: the first stack frame outside kysely, this package and Node. */
export interface CallSite {
  /** File path, relative to the working directory when inside it. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The calling function's name, when V8 knows one. */
  readonly function?: string;
  /** `function (file:line:column)` or `file:line:column`: the form used in events and keys. */
  readonly text: string;
}

/** An error-like holder whose `stack` is formatted on first read. */
export interface CapturedStack {
  stack?: string;
}

const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/;

/** The directory this module lives in (src/ in the repository, dist/ once built). */
const OWN_DIR = (() => {
  const holder: CapturedStack = {};
  Error.captureStackTrace(holder);
  const file = (holder.stack ?? '')
    .split('\n')
    .map(parseFrame)
    .find((frame) => frame !== undefined)?.file;
  return file === undefined ? undefined : dirname(file) + sep;
})();

const ALWAYS_SKIPPED = [
  /[\\/]node_modules[\\/](?:\.pnpm[\\/][^\\/]+[\\/]node_modules[\\/])?(?:kysely|dataloader|p-limit|pg|pg-pool|better-sqlite3)[\\/]/,
  /^node:/,
  /^internal[\\/]/,
  /[\\/]@plat[\\/]db-perf[\\/]dist[\\/]/,
];

/** How many frames to capture: kysely adds about eight between the caller and the plugin. */
const STACK_DEPTH = 24;

/**
 * Captures the current stack without formatting it.
 *
 * @example
 * ```ts
 * const stack = captureStack();
 * // later, only if needed:
 * resolveCallSite(stack)?.text; // 'loadOrders (src/orders.ts:42:18)'
 * ```
 */
export function captureStack(): CapturedStack {
  const previous = Error.stackTraceLimit;
  Error.stackTraceLimit = STACK_DEPTH;
  const holder: CapturedStack = {};
  Error.captureStackTrace(holder, captureStack);
  Error.stackTraceLimit = previous;
  return holder;
}

/**
 * The first application frame of a captured stack: frames inside kysely, dataloader, the database
 * drivers, Node itself, this package and anything matching `ignore` are skipped.
 *
 * @example
 * ```ts
 * resolveCallSite(captureStack(), [/src\/db\/repository\.ts/]);
 * ```
 */
export function resolveCallSite(
  captured: CapturedStack,
  ignore: readonly RegExp[] = [],
): CallSite | undefined {
  const lines = (captured.stack ?? '').split('\n');
  for (const line of lines) {
    const frame = parseFrame(line);
    if (frame === undefined) continue;
    if (OWN_DIR !== undefined && frame.file.startsWith(OWN_DIR)) continue;
    if (ALWAYS_SKIPPED.some((pattern) => pattern.test(frame.file))) continue;
    if (ignore.some((pattern) => pattern.test(frame.file))) continue;
    const file = displayPath(frame.file);
    const location = `${file}:${frame.line}:${frame.column}`;
    const fn = frame.function;
    return {
      file,
      line: frame.line,
      column: frame.column,
      ...(fn === undefined ? {} : { function: fn }),
      text: fn === undefined ? location : `${fn} (${location})`,
    };
  }
  return undefined;
}

interface Frame {
  file: string;
  line: number;
  column: number;
  function?: string;
}

function parseFrame(line: string): Frame | undefined {
  const match = FRAME.exec(line);
  if (match === null) return undefined;
  let file = match[2]!;
  if (file.startsWith('file://')) {
    try {
      file = fileURLToPath(file);
    } catch {
      // keep the URL as it is
    }
  }
  const name = match[1]?.replace(/^async /, '').replace(/^new /, '');
  const frame: Frame = { file, line: Number(match[3]), column: Number(match[4]) };
  if (name !== undefined && name !== '' && name !== '<anonymous>') frame.function = name;
  return frame;
}

function displayPath(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/** A fixed call site for queries built synchronously inside `withCallSiteLabel`. */
let activeLabel: string | undefined;

/**
 * Runs `fn` (synchronously) so that queries it builds carry `label` as their call site instead of a
 * stack frame. Batch loaders use it: their queries are issued from a scheduler tick, where the stack
 * says nothing about the application.
 *
 * @example
 * ```ts
 * const pending = withCallSiteLabel('loader users.id', () => query.execute());
 * ```
 */
export function withCallSiteLabel<T>(label: string, fn: () => T): T {
  const previous = activeLabel;
  activeLabel = label;
  try {
    return fn();
  } finally {
    activeLabel = previous;
  }
}

/** The label set by an enclosing `withCallSiteLabel`, if any. */
export function currentCallSiteLabel(): string | undefined {
  return activeLabel;
}

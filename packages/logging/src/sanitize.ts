/**
 * One walk over a line's fields that both redacts and makes the value safe for `JSON.stringify`
 * (errors, cycles, BigInt, Maps, buffers, throwing `toJSON`). It copies on write: parts that need
 * no change are returned as they are, and the caller's objects are never modified.
 */
import { type PathNode, type Redaction, stepPaths } from './redaction';

/** Anything `Object.prototype.toString` calls an Error, including errors from another realm. */
export function isError(value: unknown): value is Error {
  return (
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      Object.prototype.toString.call(value) === '[object Error]')
  );
}

/** Assigns without letting a `__proto__` key from parsed input replace the prototype. */
export function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const ERROR_OWN_KEYS = new Set(['name', 'message', 'stack', 'cause', 'errors']);
const HeadersClass: (new () => { entries(): IterableIterator<[string, string]> }) | undefined = (
  globalThis as { Headers?: new () => { entries(): IterableIterator<[string, string]> } }
).Headers;

export class Sanitizer {
  readonly #redaction: Redaction;
  readonly #maxDepth: number;
  readonly #keysActive: boolean;

  constructor(redaction: Redaction, maxDepth: number) {
    this.#redaction = redaction;
    this.#maxDepth = maxDepth;
    this.#keysActive = redaction.keys.active;
  }

  /** The root of the compiled path tree, for walks that start at a line's top-level fields. */
  get rootPaths(): readonly PathNode[] | undefined {
    const root = this.#redaction.paths;
    return root === undefined ? undefined : [root];
  }

  get censor(): string {
    return this.#redaction.censor;
  }

  /** A string with secrets hidden. */
  string(text: string): string {
    return this.#redaction.strings.apply(text);
  }

  /**
   * The value to write for `key` at a level whose path nodes are `nodes`: the censor when the key
   * or a path says so, otherwise the cleaned value.
   */
  field(key: string, value: unknown, nodes: readonly PathNode[] | undefined, depth: number): unknown {
    if (value === undefined) return undefined;
    let next: PathNode[] | undefined;
    if (nodes !== undefined) {
      next = stepPaths(nodes, key);
      if (next?.some((node) => node.terminal)) return this.#redaction.censor;
    }
    if (this.#keysActive && this.#redaction.keys.isSecret(key)) return this.#redaction.censor;
    return this.value(value, next, depth, undefined);
  }

  /** A JSON-safe, redacted form of `value`; the same reference when nothing needed to change. */
  value(
    value: unknown,
    nodes: readonly PathNode[] | undefined,
    depth: number,
    ancestors: object[] | undefined,
  ): unknown {
    switch (typeof value) {
      case 'string':
        return this.#redaction.strings.apply(value);
      case 'object':
        return value === null ? null : this.#object(value, nodes, depth, ancestors ?? []);
      case 'bigint':
        return value.toString();
      case 'symbol':
        return value.toString();
      case 'function':
        return undefined;
      default:
        return value;
    }
  }

  /** The JSON form of an error: name, message, stack, own fields, and the `cause` chain. */
  error(error: Error, depth: number, ancestors: object[]): Record<string, unknown> {
    ancestors.push(error);
    try {
      const out: Record<string, unknown> = {
        name: typeof error.name === 'string' ? error.name : 'Error',
        message: typeof error.message === 'string' ? this.string(error.message) : String(error.message),
      };
      if (typeof error.stack === 'string') out.stack = this.string(error.stack);
      for (const key of Object.keys(error)) {
        if (ERROR_OWN_KEYS.has(key)) continue;
        const cleaned = this.field(
          key,
          (error as unknown as Record<string, unknown>)[key],
          undefined,
          depth + 1,
        );
        if (cleaned !== undefined) setField(out, key, cleaned);
      }
      const errors: unknown = (error as { errors?: unknown }).errors;
      if (Array.isArray(errors)) out.errors = this.value(errors, undefined, depth + 1, ancestors);
      const cause: unknown = (error as { cause?: unknown }).cause;
      if (cause !== undefined) {
        out.cause =
          typeof cause === 'object' && cause !== null && ancestors.includes(cause)
            ? '[Circular]'
            : depth >= this.#maxDepth
              ? '[Error]'
              : this.value(cause, undefined, depth + 1, ancestors);
      }
      return out;
    } finally {
      ancestors.pop();
    }
  }

  #object(
    value: object,
    nodes: readonly PathNode[] | undefined,
    depth: number,
    ancestors: object[],
  ): unknown {
    if (ancestors.includes(value)) return '[Circular]';
    if (value instanceof Date) return value;
    if (isError(value)) return depth > this.#maxDepth ? '[Error]' : this.error(value, depth, ancestors);
    if (depth > this.#maxDepth) return Array.isArray(value) ? '[Array]' : '[Object]';
    if (Array.isArray(value)) return this.#array(value, nodes, depth, ancestors);
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      return `[${value.constructor.name} ${value.byteLength} bytes]`;
    }
    if (value instanceof Map) return this.#entries(value, nodes, depth, ancestors);
    if (value instanceof Set) return this.#array([...value], nodes, depth, ancestors);
    if (HeadersClass !== undefined && value instanceof HeadersClass) {
      return this.#entries(new Map(value.entries()), nodes, depth, ancestors);
    }
    if (value instanceof RegExp) return String(value);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      // JSON.stringify would call it and write whatever it returns, so its result is walked too.
      ancestors.push(value);
      try {
        return this.value(toJSON.call(value, ''), nodes, depth, ancestors);
      } finally {
        ancestors.pop();
      }
    }
    return this.#plain(value as Record<string, unknown>, nodes, depth, ancestors);
  }

  #plain(
    value: Record<string, unknown>,
    nodes: readonly PathNode[] | undefined,
    depth: number,
    ancestors: object[],
  ): Record<string, unknown> {
    ancestors.push(value);
    try {
      const keys = Object.keys(value);
      let copy: Record<string, unknown> | undefined;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const original = value[key];
        let cleaned: unknown;
        if (original === undefined) cleaned = undefined;
        else {
          let next: PathNode[] | undefined;
          if (nodes !== undefined) next = stepPaths(nodes, key);
          if (
            next?.some((node) => node.terminal) ||
            (this.#keysActive && this.#redaction.keys.isSecret(key))
          ) {
            cleaned = this.#redaction.censor;
          } else cleaned = this.value(original, next, depth + 1, ancestors);
        }
        if (cleaned !== original && copy === undefined) {
          copy = {};
          for (let j = 0; j < i; j++) setField(copy, keys[j] as string, value[keys[j] as string]);
        }
        if (copy !== undefined && cleaned !== undefined) setField(copy, key, cleaned);
      }
      return copy ?? value;
    } finally {
      ancestors.pop();
    }
  }

  #array(
    value: readonly unknown[],
    nodes: readonly PathNode[] | undefined,
    depth: number,
    ancestors: object[],
  ) {
    ancestors.push(value);
    try {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const original = value[i];
        let cleaned: unknown;
        let next: PathNode[] | undefined;
        if (nodes !== undefined) next = stepPaths(nodes, String(i));
        if (next?.some((node) => node.terminal)) cleaned = this.#redaction.censor;
        else cleaned = original === undefined ? undefined : this.value(original, next, depth + 1, ancestors);
        // JSON writes undefined array items as null; keep them as they are.
        if (cleaned !== original && copy === undefined) copy = value.slice(0, i);
        if (copy !== undefined) copy.push(cleaned);
      }
      return copy ?? value;
    } finally {
      ancestors.pop();
    }
  }

  #entries(
    map: Map<unknown, unknown>,
    nodes: readonly PathNode[] | undefined,
    depth: number,
    ancestors: object[],
  ) {
    const plain: Record<string, unknown> = {};
    for (const [key, item] of map) setField(plain, typeof key === 'string' ? key : String(key), item);
    return this.#plain(plain, nodes, depth, ancestors);
  }
}

/**
 * What redaction hides: key names, paths and patterns inside strings. The walk that applies these
 * rules to a line lives in sanitize.ts.
 */
import { API_KEY_PATTERN_SOURCE, API_KEY_SHAPE, redactApiKeys } from '@plat/core';
import { LoggingError } from './errors';
import type { RedactOptions } from './types';

/** Normalised fragments that mark a key as secret wherever they occur in it. */
const SECRET_FRAGMENTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'apikey',
  'authorization',
  'cookie',
  'privatekey',
  'credential',
];
/** Normalised keys that are secret as a whole only (`auth` inside `author` is not). */
const SECRET_KEYS = new Set(['auth', 'jwt', 'pwd', 'bearer']);

/** Lower case without `-`, `_`, `.` and spaces, so `X-Api-Key`, `api_key` and `apiKey` agree. */
export function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[-_.\s]/g, '');
}

function isDefaultSecretKey(normalised: string): boolean {
  if (SECRET_KEYS.has(normalised) || normalised.endsWith('token')) return true;
  for (const fragment of SECRET_FRAGMENTS) if (normalised.includes(fragment)) return true;
  return false;
}

/** Above this many distinct keys the decision cache stops growing (keys built from data, say). */
const KEY_CACHE_LIMIT = 5000;

/** Decides, once per distinct key name, whether its value is hidden. */
export class KeyRule {
  readonly #cache = new Map<string, boolean>();
  readonly #exact: ReadonlySet<string>;
  readonly #patterns: readonly RegExp[];
  readonly #defaults: boolean;

  constructor(keys: ReadonlyArray<string | RegExp>, defaults: boolean) {
    this.#exact = new Set(keys.filter((k): k is string => typeof k === 'string').map(normaliseKey));
    this.#patterns = keys
      .filter((k): k is RegExp => k instanceof RegExp)
      .map((re) => new RegExp(re.source, re.flags.replace(/[gy]/g, '')));
    this.#defaults = defaults;
  }

  get active(): boolean {
    return this.#defaults || this.#exact.size > 0 || this.#patterns.length > 0;
  }

  isSecret(key: string): boolean {
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const normalised = normaliseKey(key);
    const secret =
      (this.#defaults && isDefaultSecretKey(normalised)) ||
      this.#exact.has(normalised) ||
      this.#patterns.some((re) => re.test(key));
    if (this.#cache.size < KEY_CACHE_LIMIT) this.#cache.set(key, secret);
    return secret;
  }
}

// Tested without the `g` flag (no lastIndex state); the replacement itself is @plat/core's.
const API_KEY_TEST = new RegExp(API_KEY_PATTERN_SOURCE);
const API_KEY_MIN_LENGTH =
  API_KEY_SHAPE.keyIdLength + API_KEY_SHAPE.secretLength + API_KEY_SHAPE.checksumLength + 4;
/** header.payload.signature, both JSON parts starting `{"` (base64url `eyJ`). */
const JWT = /\beyJ[\w-]{2,}\.eyJ[\w-]{2,}\.[\w-]{2,}/g;
/** The password of `scheme://user:password@host`. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)([^\s/?#@]+)(@)/gi;

/** Hides secrets inside strings: @plat API keys, JWTs, URL passwords and user patterns. */
export class StringRule {
  readonly #apiKeys: boolean;
  readonly #defaults: boolean;
  readonly #patterns: readonly RegExp[];
  readonly #censor: string;
  /** Strings shorter than this cannot hold anything we hide, so they skip every test. */
  readonly minLength: number;

  constructor(apiKeys: boolean, defaults: boolean, patterns: readonly RegExp[], censor: string) {
    this.#apiKeys = apiKeys;
    this.#defaults = defaults;
    this.#patterns = patterns.map(
      (re) => new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`),
    );
    this.#censor = censor;
    this.minLength =
      this.#patterns.length > 0
        ? 1
        : Math.min(
            apiKeys ? API_KEY_MIN_LENGTH : Number.POSITIVE_INFINITY,
            defaults ? 12 : Number.POSITIVE_INFINITY,
          );
  }

  apply(text: string): string {
    if (text.length < this.minLength) return text;
    let out = text;
    if (this.#apiKeys && out.length >= API_KEY_MIN_LENGTH && API_KEY_TEST.test(out)) out = redactApiKeys(out);
    if (this.#defaults) {
      if (out.includes('eyJ')) out = out.replace(JWT, this.#censor);
      if (out.includes('://') && out.includes('@')) out = out.replace(URL_PASSWORD, `$1${this.#censor}$3`);
    }
    for (const pattern of this.#patterns) out = out.replace(pattern, this.#censor);
    return out;
  }
}

/** A node of the compiled path tree: `*` children match any key. */
export interface PathNode {
  readonly children: Map<string, PathNode>;
  wildcard: PathNode | undefined;
  /** True when a path ends here: the value at this node is hidden. */
  terminal: boolean;
}

function newNode(): PathNode {
  return { children: new Map(), wildcard: undefined, terminal: false };
}

/** Splits `a.b["c-d"][0][*].e` into `['a', 'b', 'c-d', '0', '*', 'e']`. */
export function parsePath(path: string): string[] {
  const segments: string[] = [];
  const token = /\.?([^.[\]]+)|\[(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\d+|\*))\]/gy;
  let index = 0;
  while (index < path.length) {
    token.lastIndex = index;
    const match = token.exec(path);
    if (match === null || (index === 0 && path.startsWith('.'))) {
      throw new LoggingError(
        'INVALID_OPTIONS',
        `redact.paths: cannot parse "${path}" at character ${index + 1}`,
      );
    }
    segments.push((match[1] ?? match[2] ?? match[3] ?? match[4] ?? '').replace(/\\(.)/g, '$1'));
    index = token.lastIndex;
  }
  if (segments.length === 0) throw new LoggingError('INVALID_OPTIONS', 'redact.paths: empty path');
  return segments;
}

/** Compiles redaction paths into a tree walked alongside the value. */
export function compilePaths(paths: readonly string[]): PathNode | undefined {
  if (paths.length === 0) return undefined;
  const root = newNode();
  for (const path of paths) {
    let node = root;
    for (const segment of parsePath(path)) {
      if (segment === '*') {
        node.wildcard ??= newNode();
        node = node.wildcard;
      } else {
        let next = node.children.get(segment);
        if (next === undefined) {
          next = newNode();
          node.children.set(segment, next);
        }
        node = next;
      }
    }
    node.terminal = true;
  }
  return root;
}

/** The nodes reached from `nodes` through `key`; undefined when no path continues there. */
export function stepPaths(nodes: readonly PathNode[], key: string): PathNode[] | undefined {
  const next: PathNode[] = [];
  for (const node of nodes) {
    const exact = node.children.get(key);
    if (exact !== undefined) next.push(exact);
    if (node.wildcard !== undefined) next.push(node.wildcard);
  }
  return next.length === 0 ? undefined : next;
}

/** The compiled form of `RedactOptions`. */
export interface Redaction {
  readonly keys: KeyRule;
  readonly strings: StringRule;
  readonly paths: PathNode | undefined;
  readonly censor: string;
}

/** Validates and compiles redaction options; `false` turns every rule off. */
export function compileRedaction(options: RedactOptions | false | undefined): Redaction {
  if (options === false) {
    return {
      keys: new KeyRule([], false),
      strings: new StringRule(false, false, [], ''),
      paths: undefined,
      censor: '[REDACTED]',
    };
  }
  const {
    paths = [],
    keys = [],
    defaultKeys = true,
    apiKeys = true,
    defaultPatterns = true,
    patterns = [],
    censor = '[REDACTED]',
  } = options ?? {};
  if (typeof censor !== 'string') throw new LoggingError('INVALID_OPTIONS', 'redact.censor must be a string');
  for (const key of keys) {
    if (typeof key !== 'string' && !(key instanceof RegExp))
      throw new LoggingError('INVALID_OPTIONS', 'redact.keys must hold strings or regular expressions');
  }
  for (const pattern of patterns) {
    if (!(pattern instanceof RegExp))
      throw new LoggingError('INVALID_OPTIONS', 'redact.patterns must hold regular expressions');
  }
  return {
    keys: new KeyRule(keys, defaultKeys),
    strings: new StringRule(apiKeys, defaultPatterns, patterns, censor),
    paths: compilePaths(paths),
    censor,
  };
}

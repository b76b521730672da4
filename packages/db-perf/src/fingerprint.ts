/**
 * Query fingerprints: the SQL text with every value folded to `?`, so that one statement shape is
 * one row of statistics whatever its parameters. Fingerprints are built from the SQL text only;
 * parameter values are never read here, so they can never leak into events or reports.
 */
import { createHash } from 'node:crypto';

/** A statement shape and its short, stable id. */
export interface QueryFingerprint {
  /** Normalized SQL: literals and placeholders folded to `?`, lists collapsed, whitespace collapsed. */
  readonly text: string;
  /** 16 hex characters derived from `text`; stable across processes and versions of this package. */
  readonly id: string;
  /** The statement's leading keyword in lower case (`select`, `insert`, `with`, ...). */
  readonly verb: string;
}

/**
 * Folds a SQL statement to its fingerprint text: string, numeric and dollar-quoted literals and
 * placeholders (`$1`, `?`, `:name`) become `?`, comments disappear, whitespace collapses, lists of
 * values (`in (?, ?, ?)`) become `(?...)` and repeated row tuples (`values (...), (...)`) one tuple
 * followed by `, ...`. Quoted identifiers are kept as written.
 *
 * @example
 * ```ts
 * normalizeSql(`select * from "users" where "id" in ($1, $2, $3) and name = 'x'`);
 * // 'select * from "users" where "id" in (?...) and name = ?'
 * ```
 */
export function normalizeSql(sql: string): string {
  let out = '';
  let pendingSpace = false;
  const n = sql.length;
  let i = 0;
  const emit = (token: string): void => {
    if (pendingSpace && out.length > 0) out += ' ';
    pendingSpace = false;
    out += token;
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f') {
      pendingSpace = true;
      i++;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end;
      pendingSpace = true;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
      pendingSpace = true;
    } else if (c === '"' || c === '`') {
      // Quoted identifiers stay: they are part of the statement's shape, not values.
      let j = i + 1;
      while (j < n) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      emit(sql.slice(i, Math.min(j + 1, n)));
      i = j + 1;
    } else if (c === "'" || ((c === 'E' || c === 'e' || c === 'X' || c === 'x') && next === "'")) {
      let j = c === "'" ? i + 1 : i + 2;
      while (j < n) {
        if (sql[j] === '\\' && c !== "'") j += 2;
        else if (sql[j] === "'") {
          if (sql[j + 1] === "'") j += 2;
          else break;
        } else j++;
      }
      emit('?');
      i = j + 1;
    } else if (c === '$' && next !== undefined && /[0-9]/.test(next)) {
      let j = i + 1;
      while (j < n && /[0-9]/.test(sql[j]!)) j++;
      emit('?');
      i = j;
    } else if (c === '$') {
      // Dollar-quoted string: $tag$ ... $tag$
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 64));
      if (tag === null) {
        emit('$');
        i++;
      } else {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        emit('?');
        i = end === -1 ? n : end + tag[0].length;
      }
    } else if (c === '?') {
      emit('?');
      i++;
    } else if (c === ':' && next !== undefined && /[A-Za-z_]/.test(next) && sql[i - 1] !== ':') {
      let j = i + 1;
      while (j < n && /[\w]/.test(sql[j]!)) j++;
      emit('?');
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      let j = i;
      while (j < n && /[0-9.eE]/.test(sql[j]!)) {
        if ((sql[j] === 'e' || sql[j] === 'E') && (sql[j + 1] === '-' || sql[j + 1] === '+')) j++;
        j++;
      }
      emit('?');
      i = j;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      // Identifiers and keywords, digits included (t1, col_2): never mistaken for a number.
      let j = i + 1;
      while (j < n && /[\w$\u0080-\uffff]/.test(sql[j]!)) j++;
      emit(sql.slice(i, j));
      i = j;
    } else {
      // Punctuation: no space before `,` `)` or after `(`, so `in ( ?,?)` and `in (?, ?)` agree.
      if (c === ',' || c === ')' || c === ';') pendingSpace = false;
      emit(c);
      if (c === '(' || c === '.') pendingSpace = false;
      else if (c === ',') pendingSpace = true;
      i++;
    }
  }
  let text = out.replace(/;+\s*$/, '');
  text = text.replace(/\(\?(?:, \?)+\)/g, '(?...)');
  text = text.replace(/(\((?:[^()]|\([^()]*\))*\))(?:, \1)+/g, '$1, ...');
  return text;
}

/** The 16-hex-character id of a fingerprint text. */
export function fingerprintId(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * A bounded cache from raw SQL to its fingerprint: the same SQL string is normalized once, so a
 * query loop pays one map lookup per query.
 */
export class FingerprintCache {
  readonly #entries = new Map<string, QueryFingerprint>();
  constructor(private readonly capacity = 5000) {}

  /** The fingerprint of `sql`, computed once per distinct string. */
  get(sql: string): QueryFingerprint {
    const cached = this.#entries.get(sql);
    if (cached !== undefined) return cached;
    const fingerprint = fingerprintOf(sql);
    // Oldest first: Map keeps insertion order, so dropping the first key evicts the oldest entry.
    if (this.#entries.size >= this.capacity) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(sql, fingerprint);
    return fingerprint;
  }
}

/**
 * The fingerprint of one SQL statement.
 *
 * @example
 * ```ts
 * fingerprintOf('select * from "users" where "id" = $1').text; // 'select * from "users" where "id" = ?'
 * ```
 */
export function fingerprintOf(sql: string): QueryFingerprint {
  const text = normalizeSql(sql);
  const verb = /^\(?\s*([A-Za-z]+)/.exec(text)?.[1]?.toLowerCase() ?? '';
  return { text, id: fingerprintId(text), verb };
}

/**
 * A short hash of a parameter list, used only to tell "same query, different values" from "same
 * query, same values" inside one unit of work. It is kept in memory and never reported.
 */
export function hashParameters(parameters: readonly unknown[]): number {
  let h = 0x811c9dc5;
  for (const value of parameters) {
    const s = paramString(value);
    for (let k = 0; k < s.length; k++) {
      h ^= s.charCodeAt(k);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x1f;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function paramString(value: unknown): string {
  if (value === null || value === undefined) return 'n';
  switch (typeof value) {
    case 'string':
      return `s${value}`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value}${String(value)}`;
    default:
      if (value instanceof Date) return `d${value.getTime()}`;
      if (value instanceof Uint8Array) return `b${value.length}:${value.subarray(0, 64).join(',')}`;
      try {
        return `j${JSON.stringify(value)}`;
      } catch {
        return 'o';
      }
  }
}

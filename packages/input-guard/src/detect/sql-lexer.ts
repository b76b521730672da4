/**
 * A forgiving SQL lexer covering the dialects injections target (MySQL, PostgreSQL, SQL Server,
 * Oracle, SQLite). It starts either outside any literal or inside a string literal opened by the
 * application (`'…` or `"…`), which is how a value is spliced into a query.
 */

/** Token classes; the character is also the token's letter in a fingerprint (libinjection style). */
export const Tok = {
  String: 's',
  Number: '1',
  Name: 'n',
  Keyword: 'k',
  Logic: '&',
  Union: 'U',
  Statement: 'E',
  Variable: 'v',
  Operator: 'o',
  LParen: '(',
  RParen: ')',
  Comma: ',',
  Semicolon: ';',
  Dot: '.',
  Comment: 'c',
  Unknown: 'X',
  End: '$',
} as const;
export type Tok = (typeof Tok)[keyof typeof Tok];

export interface Token {
  type: Tok;
  start: number;
  end: number;
  /** Upper-cased text for words and keywords; the operator itself for operators. */
  value: string;
  /** For comments: `--` (with the space MySQL requires), `--x` (without), `#`, `/*`. */
  style?: string;
}

/** Words that join conditions. */
const LOGIC = new Set(['AND', 'OR', 'XOR']);
const UNION = new Set(['UNION', 'INTERSECT', 'EXCEPT']);
/** Words that start a statement (after `;`, or a whole value). */
export const STATEMENTS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'DROP',
  'CREATE',
  'ALTER',
  'TRUNCATE',
  'EXEC',
  'EXECUTE',
  'DECLARE',
  'SHUTDOWN',
  'WAITFOR',
  'GRANT',
  'REVOKE',
  'REPLACE',
  'MERGE',
  'CALL',
  'SET',
  'USE',
  'SHOW',
  'DESCRIBE',
  'RENAME',
  'KILL',
  'BACKUP',
  'RESTORE',
  'PREPARE',
  'DBCC',
  'COPY',
  'LOAD',
  'HANDLER',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
]);
/** Other reserved words the grammar knows. */
const KEYWORDS = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'ORDER',
  'BY',
  'HAVING',
  'LIMIT',
  'OFFSET',
  'INTO',
  'OUTFILE',
  'DUMPFILE',
  'PROCEDURE',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'OUTER',
  'CROSS',
  'NATURAL',
  'FULL',
  'ON',
  'USING',
  'AS',
  'ASC',
  'DESC',
  'ALL',
  'DISTINCT',
  'TOP',
  'VALUES',
  'TABLE',
  'FOR',
  'WITH',
  'FETCH',
  'ROWS',
  'ONLY',
  'IS',
  'NOT',
  'NULL',
  'TRUE',
  'FALSE',
  'UNKNOWN',
  'LIKE',
  'RLIKE',
  'ILIKE',
  'REGEXP',
  'SIMILAR',
  'GLOB',
  'SOUNDS',
  'IN',
  'BETWEEN',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'EXISTS',
  'ANY',
  'SOME',
  'DIV',
  'MOD',
  'COLLATE',
  'BINARY',
  'ESCAPE',
  'INTERVAL',
  'TO',
  'DELAY',
  'TIME',
  'DATABASE',
  'USER',
  'IF',
  'CAST',
  'CONVERT',
  'CHAR',
  'MINUS',
]);

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isWordStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
}
function isWordPart(c: number): boolean {
  return isWordStart(c) || isDigit(c) || c === 36; /* $ */
}

const THREE_CHAR_OPS = new Set(['<=>', '->>']);
const TWO_CHAR_OPS = new Set([
  '<>',
  '!=',
  '<=',
  '>=',
  '==',
  ':=',
  '<<',
  '>>',
  '::',
  '->',
  '||',
  '&&',
  '!<',
  '!>',
]);
const ONE_CHAR_OPS = '=<>+-*/%^&|~!:';

export interface LexerOptions {
  /** Start inside a string literal opened with this quote. */
  quote?: "'" | '"';
  /** Treat backslash as an escape inside strings (MySQL's default). */
  backslashEscapes?: boolean;
  /** Remove block comments entirely instead of reading them as spaces (`UN/**\/ION`). */
  joinComments?: boolean;
}

/** Pull-based lexer: the parser asks for one token at a time and stops at the first error. */
export class SqlLexer {
  private pos = 0;
  /** Inside a MySQL executable comment `/*!50000 … *\/`, whose content is code. */
  private inExecutableComment = false;
  private pendingQuote: "'" | '"' | undefined;
  private readonly text: string;

  constructor(
    text: string,
    private readonly options: LexerOptions = {},
  ) {
    this.text = options.joinComments ? joinBlockComments(text) : text;
    this.pendingQuote = options.quote;
  }

  get source(): string {
    return this.text;
  }

  next(): Token {
    if (this.pendingQuote !== undefined) {
      const quote = this.pendingQuote;
      this.pendingQuote = undefined;
      return this.readString(this.pos, quote, this.pos);
    }
    const text = this.text;
    for (;;) {
      while (this.pos < text.length && isSpace(text.charCodeAt(this.pos))) this.pos++;
      if (this.pos >= text.length) return { type: Tok.End, start: text.length, end: text.length, value: '' };
      const c = text.charCodeAt(this.pos);
      // Block comments are spaces, except MySQL's executable ones, whose content is read as code.
      if (c === 47 /* / */ && text.charCodeAt(this.pos + 1) === 42 /* * */) {
        const start = this.pos;
        if (text.charCodeAt(this.pos + 2) === 33 /* ! */) {
          this.pos += 3;
          while (this.pos < text.length && isDigit(text.charCodeAt(this.pos))) this.pos++;
          this.inExecutableComment = true;
          continue;
        }
        const close = text.indexOf('*/', this.pos + 2);
        if (close === -1) {
          this.pos = text.length;
          return { type: Tok.Comment, start, end: text.length, value: '/*', style: '/*' };
        }
        this.pos = close + 2;
        return { type: Tok.Comment, start, end: this.pos, value: '/**/', style: 'inline' };
      }
      if (this.inExecutableComment && c === 42 && text.charCodeAt(this.pos + 1) === 47) {
        this.inExecutableComment = false;
        this.pos += 2;
        continue;
      }
      return this.readToken(c);
    }
  }

  private lineComment(start: number, style: string): Token {
    const newline = this.text.indexOf('\n', start);
    this.pos = newline === -1 ? this.text.length : newline + 1;
    return { type: Tok.Comment, start, end: this.pos, value: style, style };
  }

  private readToken(c: number): Token {
    const text = this.text;
    const start = this.pos;
    if (c === 45 /* - */ && text.charCodeAt(start + 1) === 45) {
      const after = text.charCodeAt(start + 2);
      return this.lineComment(start, Number.isNaN(after) || isSpace(after) ? '--' : '--x');
    }
    if (c === 35 /* # */) return this.lineComment(start, '#');
    if (c === 39 /* ' */ || c === 34 /* " */) {
      this.pos++;
      return this.readString(this.pos, c === 39 ? "'" : '"', start);
    }
    if (c === 96 /* ` */) {
      const close = text.indexOf('`', start + 1);
      this.pos = close === -1 ? text.length : close + 1;
      return { type: Tok.Name, start, end: this.pos, value: '`' };
    }
    if (c === 91 /* [ */) {
      const close = text.indexOf(']', start + 1);
      if (close !== -1 && close - start < 130) {
        this.pos = close + 1;
        return { type: Tok.Name, start, end: this.pos, value: '[]' };
      }
    }
    if (isDigit(c) || (c === 46 /* . */ && isDigit(text.charCodeAt(start + 1)))) {
      const noop = mysqlScientificNoop(text, start);
      if (noop > start) {
        this.pos = noop;
        return { type: Tok.Comment, start, end: noop, value: '1.e', style: 'inline' };
      }
      return this.readNumber(start);
    }
    if (c === 64 /* @ */) {
      let end = start + 1;
      if (text.charCodeAt(end) === 64) end++;
      const q = text.charCodeAt(end);
      if (q === 39 || q === 34 || q === 96) {
        const close = text.indexOf(text[end]!, end + 1);
        end = close === -1 ? text.length : close + 1;
      } else {
        while (end < text.length && (isWordPart(text.charCodeAt(end)) || text.charCodeAt(end) === 46)) end++;
      }
      this.pos = end;
      return { type: Tok.Variable, start, end, value: text.slice(start, end).toUpperCase() };
    }
    if (isWordStart(c)) {
      let end = start + 1;
      while (end < text.length && isWordPart(text.charCodeAt(end))) end++;
      const word = text.slice(start, end).toUpperCase();
      // Prefixed literals: N'…', E'…', X'…', B'…'.
      const q = text.charCodeAt(end);
      if ((q === 39 || q === 34) && end - start === 1 && 'NEXB'.includes(word)) {
        this.pos = end + 1;
        return this.readString(this.pos, q === 39 ? "'" : '"', start);
      }
      this.pos = end;
      return { type: classifyWord(word), start, end, value: word };
    }
    if (c === 40) return this.single(Tok.LParen, '(');
    if (c === 41) return this.single(Tok.RParen, ')');
    if (c === 44) return this.single(Tok.Comma, ',');
    if (c === 59) return this.single(Tok.Semicolon, ';');
    if (c === 46) return this.single(Tok.Dot, '.');
    if (c === 36 /* $ */ && text.charCodeAt(start + 1) === 36) {
      const close = text.indexOf('$$', start + 2);
      this.pos = close === -1 ? text.length : close + 2;
      return { type: Tok.String, start, end: this.pos, value: '$$' };
    }
    const three = text.slice(start, start + 3);
    if (THREE_CHAR_OPS.has(three)) return this.operator(start, three);
    const two = text.slice(start, start + 2);
    if (TWO_CHAR_OPS.has(two)) {
      if (two === '||' || two === '&&') {
        this.pos += 2;
        return { type: Tok.Logic, start, end: this.pos, value: two };
      }
      return this.operator(start, two);
    }
    if (ONE_CHAR_OPS.includes(text[start]!)) return this.operator(start, text[start]!);
    this.pos++;
    return { type: Tok.Unknown, start, end: this.pos, value: text[start]! };
  }

  private single(type: Tok, value: string): Token {
    const start = this.pos++;
    return { type, start, end: this.pos, value };
  }

  private operator(start: number, op: string): Token {
    this.pos = start + op.length;
    return { type: Tok.Operator, start, end: this.pos, value: op };
  }

  private readNumber(start: number): Token {
    const text = this.text;
    let end = start;
    if (text.charCodeAt(start) === 48 && (text.charCodeAt(start + 1) | 0x20) === 120 /* 0x */) {
      end = start + 2;
      while (end < text.length && /* hex */ isHexDigit(text.charCodeAt(end))) end++;
    } else {
      while (end < text.length && isDigit(text.charCodeAt(end))) end++;
      if (text.charCodeAt(end) === 46) {
        end++;
        while (end < text.length && isDigit(text.charCodeAt(end))) end++;
      }
      if ((text.charCodeAt(end) | 0x20) === 101 /* e */) {
        let e = end + 1;
        if (text.charCodeAt(e) === 43 || text.charCodeAt(e) === 45) e++;
        if (isDigit(text.charCodeAt(e))) {
          end = e;
          while (end < text.length && isDigit(text.charCodeAt(end))) end++;
        }
      }
    }
    this.pos = end;
    return { type: Tok.Number, start, end, value: text.slice(start, end) };
  }

  /** Reads a string body from `from` up to its closing quote (doubled quotes are escapes). */
  private readString(from: number, quote: "'" | '"', start: number): Token {
    const text = this.text;
    const q = quote.charCodeAt(0);
    let i = from;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 92 /* \ */ && this.options.backslashEscapes) {
        i += 2;
        continue;
      }
      if (c === q) {
        if (text.charCodeAt(i + 1) === q) {
          i += 2;
          continue;
        }
        this.pos = i + 1;
        return { type: Tok.String, start, end: this.pos, value: quote };
      }
      i++;
    }
    // Unterminated: the application's own closing quote ends it.
    this.pos = text.length;
    return { type: Tok.String, start, end: text.length, value: quote, style: 'open' };
  }
}

/**
 * MySQL reads `1.e` with no exponent digits before `(`, `)` or `,` as nothing at all, so
 * `1.e(ascii 1.e(…` is `ascii(…`: a known way past WAF tokenizers. Returns the end of such a
 * no-op, or `start` when the number is an ordinary one.
 */
function mysqlScientificNoop(text: string, start: number): number {
  let i = start;
  while (isDigit(text.charCodeAt(i))) i++;
  if (i === start || text.charCodeAt(i) !== 46 /* . */ || (text.charCodeAt(i + 1) | 0x20) !== 101 /* e */)
    return start;
  const after = text.charCodeAt(i + 2);
  return after === 40 || after === 41 || after === 44 ? i + 2 : start;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}

export function classifyWord(word: string): Tok {
  if (LOGIC.has(word)) return Tok.Logic;
  if (UNION.has(word)) return Tok.Union;
  if (STATEMENTS.has(word)) return Tok.Statement;
  if (KEYWORDS.has(word)) return Tok.Keyword;
  return Tok.Name;
}

/** `UN/**\/ION` → `UNION`: some filters strip comments, which glues the halves back together. */
function joinBlockComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('/*', i);
    if (open === -1) {
      out += text.slice(i);
      break;
    }
    if (text.charCodeAt(open + 2) === 33 /* ! executable: keep */) {
      out += text.slice(i, open + 3);
      i = open + 3;
      continue;
    }
    const close = text.indexOf('*/', open + 2);
    if (close === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, open);
    i = close + 2;
  }
  return out;
}

/**
 * SQL injection by structure. The value is spliced into a query the three ways applications do it
 * (bare, as in `id = 42`; inside '…'; inside "…"), and for each we ask the question libinjection
 * made famous: does the value leave its literal and go on to form valid SQL? Instead of a table of
 * known fingerprints we parse: a recursive-descent parser over a pull lexer accepts the tail of a
 * WHERE clause (conditions, UNION SELECT, stacked statements, ORDER BY, comments) and records what
 * it saw. Text is rejected as soon as it stops being SQL, which is after one or two tokens for prose.
 */
import type { GuardLevel } from '../types';
import { C, charMask } from './chars';
import { foldQuotes } from './confusables';
import { classifyWord, type LexerOptions, SqlLexer, Tok, type Token } from './sql-lexer';

/** What a successful parse contained. */
interface SqlFeatures {
  /** The value closed the application's string literal. */
  breakout: boolean;
  union: boolean;
  stacked: boolean;
  semicolonEnd: boolean;
  logic: boolean;
  pipes: boolean;
  compare: boolean;
  arith: boolean;
  func: boolean;
  attackFunc: boolean;
  subquery: boolean;
  clause: boolean;
  leadingTail: boolean;
  /** A bare value that starts with a number: a numeric parameter, the classic injection point. */
  numericStart: boolean;
  /** ORDER BY / GROUP BY a column number, or PROCEDURE: probes of a query's shape. */
  clauseIndex: boolean;
  select: boolean;
  statement: boolean;
  keywordLiteral: boolean;
  variable: boolean;
  parenClose: boolean;
  /** The last token was a string left open for the application's closing quote. */
  endsInString: boolean;
  /** The value continued a list with `,`. */
  list: boolean;
  /** False when the text stopped being SQL; the features then describe the prefix that was. */
  complete: boolean;
  /** Style of a comment that ends the value (`--`, `--x`, `#`, `/*`), if any. */
  commentEnd: string | undefined;
  /** Tokens that are not literals or names (SQL punctuation and keywords). */
  syntaxTokens: number;
  start: number;
  end: number;
  fingerprint: string;
}

/**
 * Functions attackers call for time delays, file and command access, or error-based extraction,
 * plus the ones that reveal the server. Part of the SQL vocabulary, like the keyword table.
 */
const ATTACK_FUNCTIONS = new Set([
  'SLEEP',
  'PG_SLEEP',
  'BENCHMARK',
  'LOAD_FILE',
  'XP_CMDSHELL',
  'SP_EXECUTESQL',
  'SP_OACREATE',
  'SP_MAKEWEBTASK',
  'EXTRACTVALUE',
  'UPDATEXML',
  'UTL_HTTP',
  'UTL_INADDR',
  'DBMS_PIPE',
  'DBMS_LOCK',
  'SYS_EVAL',
  'SYS_EXEC',
  'LO_IMPORT',
  'LO_EXPORT',
  'RANDOMBLOB',
  'GTID_SUBSET',
  'NAME_CONST',
  'VERSION',
  'DATABASE',
  'USER',
  'CURRENT_USER',
  'SYSTEM_USER',
  'SESSION_USER',
  'DB_NAME',
  'HOST_NAME',
  'SCHEMA',
]);

/** What DDL statements act on. */
const SCHEMA_OBJECTS = new Set([
  'TABLE',
  'DATABASE',
  'SCHEMA',
  'VIEW',
  'USER',
  'LOGIN',
  'ROLE',
  'INDEX',
  'PROCEDURE',
  'FUNCTION',
  'TRIGGER',
  'SEQUENCE',
  'TEMPORARY',
  'TEMP',
  'UNIQUE',
  'OR',
]);

/** Keywords that are also function names when followed by `(`. */
const FUNCTION_KEYWORDS = new Set([
  'IF',
  'LEFT',
  'RIGHT',
  'REPLACE',
  'INSERT',
  'CHAR',
  'DATABASE',
  'USER',
  'CAST',
  'CONVERT',
  'TRUNCATE',
  'MOD',
  'VALUES',
  'ANY',
  'SOME',
]);

const COMPARISON = new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '<=>', '==', '!<', '!>', ':=']);
const PREDICATE_WORDS = new Set([
  'IS',
  'LIKE',
  'RLIKE',
  'ILIKE',
  'REGEXP',
  'SIMILAR',
  'GLOB',
  'SOUNDS',
  'IN',
  'BETWEEN',
]);

const MAX_DEPTH = 48;
/** Stray `)` a value may close: the application's own open parentheses. */
const MAX_APP_PARENS = 4;

class SqlParser {
  tok!: Token;
  private prevEnd = 0;
  private depth = 0;
  private openParensClosed = 0;
  private trailingComment: string | undefined;
  failed = false;
  snapshot: SqlFeatures | undefined;
  readonly f: SqlFeatures;

  constructor(private readonly lexer: SqlLexer) {
    this.f = {
      breakout: false,
      union: false,
      stacked: false,
      semicolonEnd: false,
      logic: false,
      pipes: false,
      compare: false,
      arith: false,
      func: false,
      attackFunc: false,
      subquery: false,
      clause: false,
      leadingTail: false,
      numericStart: false,
      clauseIndex: false,
      select: false,
      statement: false,
      keywordLiteral: false,
      variable: false,
      parenClose: false,
      list: false,
      endsInString: false,
      commentEnd: undefined,
      complete: true,
      syntaxTokens: 0,
      start: -1,
      end: 0,
      fingerprint: '',
    };
    this.read();
  }

  /** Moves to the next significant token, noting comments on the way. */
  private read(): void {
    if (this.failed) {
      this.tok = { type: Tok.End, start: this.f.end, end: this.f.end, value: '' };
      return;
    }
    for (;;) {
      const t = this.lexer.next();
      if (t.type === Tok.Comment) {
        if (t.style !== 'inline') this.trailingComment = t.style;
        continue;
      }
      if (t.type === Tok.End) {
        if (this.trailingComment !== undefined) this.f.commentEnd = this.trailingComment;
      } else {
        this.trailingComment = undefined;
      }
      this.tok = t;
      return;
    }
  }

  advance(): void {
    const t = this.tok;
    if (this.f.start < 0) this.f.start = t.start;
    this.prevEnd = t.end;
    this.f.end = t.end;
    if (this.f.fingerprint.length < 12) this.f.fingerprint += t.type;
    this.f.endsInString = t.type === Tok.String && t.style === 'open';
    if (t.type !== Tok.Number && t.type !== Tok.String && t.type !== Tok.Name && t.type !== Tok.Dot) {
      this.f.syntaxTokens++;
    }
    this.read();
  }

  is(type: Tok, value?: string): boolean {
    return this.tok.type === type && (value === undefined || this.tok.value === value);
  }

  expect(type: Tok, value?: string): void {
    if (!this.is(type, value)) {
      this.fail();
      return;
    }
    this.advance();
  }

  /** `)` where one is due; the end of the value also closes (the application supplies the rest). */
  close(): void {
    if (this.is(Tok.RParen)) this.advance();
    else if (!this.is(Tok.End)) {
      this.fail();
      return;
    }
  }

  enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail();
  }

  /**
   * The text stopped being SQL. Rather than throwing (a thrown value costs microseconds, and
   * prose fails on nearly every value), the parser keeps the features seen so far and reads
   * the end of input from now on, so every rule returns on its own.
   */
  fail(): void {
    if (!this.failed) {
      this.failed = true;
      this.snapshot = { ...this.f, complete: false };
    }
    this.tok = { type: Tok.End, start: this.f.end, end: this.f.end, value: '' };
  }

  // ---- whole values --------------------------------------------------------------------------

  /** A value spliced inside a string literal: the first token is the rest of that literal. */
  parseQuoted(): boolean {
    if (this.tok.type !== Tok.String || this.tok.style === 'open') return false; // never left the literal
    this.advance();
    this.f.breakout = true;
    this.f.syntaxTokens = 0;
    this.f.start = this.prevEnd - 1;
    this.f.fingerprint = 's';
    this.parseBinaryRest(0);
    this.parseTail();
    return true;
  }

  /** A value spliced bare (a number or identifier position). */
  parseBare(): boolean {
    if (this.is(Tok.End)) return false;
    this.f.numericStart = this.is(Tok.Number);
    if (this.startsTail()) {
      this.f.leadingTail = true;
      this.parseBinaryRest(0);
    } else if (this.is(Tok.Statement)) {
      this.parseStatement();
      this.f.statement = true;
    } else {
      this.parseExpr();
    }
    this.parseTail();
    return true;
  }

  private startsTail(): boolean {
    const t = this.tok;
    if (
      t.type === Tok.Logic ||
      t.type === Tok.Union ||
      t.type === Tok.Semicolon ||
      t.type === Tok.Comma ||
      t.type === Tok.RParen
    ) {
      return true;
    }
    if (t.type === Tok.Keyword) {
      return (
        t.value === 'ORDER' ||
        t.value === 'GROUP' ||
        t.value === 'HAVING' ||
        t.value === 'LIMIT' ||
        t.value === 'PROCEDURE' ||
        t.value === 'INTO'
      );
    }
    return false;
  }

  /** What may follow a complete value: more conditions, UNION, clauses, `;` statements, `)`. */
  parseTail(): void {
    for (;;) {
      const t = this.tok;
      switch (t.type) {
        case Tok.End:
          return;
        case Tok.RParen:
          if (++this.openParensClosed > MAX_APP_PARENS) {
            this.fail();
            return;
          }
          this.f.parenClose = true;
          this.advance();
          this.parseBinaryRest(0);
          continue;
        case Tok.Union:
          this.advance();
          if (this.is(Tok.Keyword, 'ALL') || this.is(Tok.Keyword, 'DISTINCT')) this.advance();
          if (this.is(Tok.LParen)) {
            this.advance();
            this.parseSelect();
            this.close();
          } else {
            this.parseSelect();
          }
          this.f.union = true;
          continue;
        case Tok.Comma:
          // Another item of the application's list (VALUES (…, x), ORDER BY a, x, f(a, x)).
          this.advance();
          this.parseExpr();
          this.f.list = true;
          continue;
        case Tok.Semicolon:
          this.advance();
          if (this.is(Tok.End)) {
            this.f.semicolonEnd = true;
            return;
          }
          this.parseStatement();
          this.f.stacked = true;
          continue;
        case Tok.Keyword:
          if (this.parseClause()) continue;
          this.parseBinaryRest(0);
          if (this.tok === t) {
            this.fail();
            return;
          }
          continue;
        case Tok.Logic:
        case Tok.Operator:
          this.parseBinaryRest(0);
          if (this.tok === t) {
            this.fail();
            return;
          }
          continue;
        case Tok.Statement:
          // SQL Server runs statements of one batch without ';' between them: `1 WAITFOR DELAY
          // '0:0:5'`, `x' EXEC master..xp_cmdshell 'dir'`. Only statements whose own grammar is
          // unmistakable count, so `2 exec members met` stays prose.
          if (!this.parseBatchStatement()) {
            this.fail();
            return;
          }
          this.f.stacked = true;
          continue;
        default: {
          this.fail();
          return;
        }
      }
    }
  }

  /** EXEC of an attack procedure, a variable or `(`; WAITFOR DELAY/TIME; DECLARE @v. */
  private parseBatchStatement(): boolean {
    switch (this.tok.value) {
      case 'EXEC':
      case 'EXECUTE':
        this.advance();
        if (this.is(Tok.LParen) || this.is(Tok.Variable)) {
          this.advance();
        } else if (!this.parseProcedureName(true)) {
          return false;
        }
        this.skipLoose();
        return !this.failed;
      case 'WAITFOR':
        this.parseStatement();
        return !this.failed;
      case 'DECLARE':
        this.advance();
        if (!this.is(Tok.Variable)) return false;
        this.advance();
        this.skipLoose();
        return !this.failed;
      default:
        return false;
    }
  }

  /**
   * A procedure name, qualified as SQL Server allows (`master..xp_cmdshell`, `dbo.sp_x`); notes
   * a time-delay, file or command procedure. With `attackOnly`, other names are refused.
   */
  private parseProcedureName(attackOnly: boolean): boolean {
    if (!this.is(Tok.Name)) return false;
    let last = this.tok.value;
    this.advance();
    while (this.is(Tok.Dot)) {
      this.advance();
      if (this.is(Tok.Dot)) this.advance();
      if (!this.is(Tok.Name)) return false;
      last = this.tok.value;
      this.advance();
    }
    const attack = ATTACK_FUNCTIONS.has(last) || last.startsWith('XP_') || last.startsWith('SP_');
    if (attack) this.f.attackFunc = true;
    return attack || !attackOnly;
  }

  /** ORDER BY, GROUP BY, HAVING, LIMIT, INTO OUTFILE, PROCEDURE, FOR UPDATE; false if none. */
  private parseClause(): boolean {
    const v = this.tok.value;
    if (v === 'ORDER' || v === 'GROUP') {
      this.advance();
      this.expect(Tok.Keyword, 'BY');
      // Noted before the list, so a value cut short inside it (`' GROUP BY 1,2,--`) still shows it.
      if (!this.failed) {
        this.f.clause = true;
        if (this.is(Tok.Number)) this.f.clauseIndex = true;
      }
      this.parseOrderList();
    } else if (v === 'HAVING') {
      this.advance();
      this.parseExpr();
    } else if (v === 'LIMIT' || v === 'OFFSET') {
      this.advance();
      this.parseExpr();
      while (this.is(Tok.Comma) || this.is(Tok.Keyword, 'OFFSET')) {
        this.advance();
        this.parseExpr();
      }
    } else if (v === 'INTO') {
      this.advance();
      this.parseInto();
    } else if (v === 'PROCEDURE') {
      this.advance();
      this.parsePrimary();
      this.f.clauseIndex = true;
    } else if (v === 'FOR') {
      // FOR UPDATE, FOR SHARE, FOR XML …, FOR JSON …
      this.advance();
      const next = this.tok.value;
      if (
        !(next === 'UPDATE' || next === 'SHARE' || next === 'XML' || next === 'JSON' || next === 'BROWSE')
      ) {
        this.fail();
        return true;
      }
      this.advance();
      this.skipLoose();
    } else {
      return false;
    }
    this.f.clause = true;
    return true;
  }

  private parseInto(): void {
    if (this.is(Tok.Keyword, 'OUTFILE') || this.is(Tok.Keyword, 'DUMPFILE')) {
      this.advance();
      this.expect(Tok.String);
      return;
    }
    this.expect(Tok.Variable);
    while (this.is(Tok.Comma)) {
      this.advance();
      this.expect(Tok.Variable);
    }
  }

  private parseOrderList(): void {
    for (;;) {
      this.parseExpr();
      if (this.is(Tok.Keyword, 'ASC') || this.is(Tok.Keyword, 'DESC')) this.advance();
      if (!this.is(Tok.Comma)) return;
      this.advance();
    }
  }

  // ---- statements ----------------------------------------------------------------------------

  parseStatement(): void {
    const t = this.tok;
    if (t.type !== Tok.Statement) {
      this.fail();
      return;
    }
    switch (t.value) {
      case 'SELECT':
        this.parseSelect();
        return;
      case 'WAITFOR':
        this.advance();
        if (!this.is(Tok.Keyword, 'DELAY') && !this.is(Tok.Keyword, 'TIME')) {
          this.fail();
          return;
        }
        this.advance();
        this.parsePrimary();
        this.f.attackFunc = true;
        return;
      case 'SHUTDOWN':
      case 'COMMIT':
      case 'ROLLBACK':
      case 'BEGIN':
        this.advance();
        this.skipLoose();
        return;
      case 'DROP':
      case 'CREATE':
      case 'ALTER':
      case 'TRUNCATE':
      case 'RENAME':
        // DDL names what it acts on: DROP TABLE x, CREATE USER y…
        this.advance();
        if (!SCHEMA_OBJECTS.has(this.tok.value)) {
          this.fail();
          return;
        }
        this.advance();
        this.skipLoose();
        return;
      case 'GRANT':
      case 'REVOKE':
      case 'SHOW':
      case 'DESCRIBE':
      case 'USE':
      case 'KILL':
      case 'BACKUP':
      case 'RESTORE':
      case 'DBCC':
      case 'COPY':
        this.parseCopy();
        return;
      case 'LOAD':
      case 'HANDLER':
      case 'PREPARE':
        this.advance();
        if (!this.is(Tok.Keyword) && !this.is(Tok.Name) && !this.is(Tok.Statement)) {
          this.fail();
          return;
        }
        this.advance();
        this.skipLoose();
        return;
      case 'INSERT':
      case 'REPLACE':
        // INSERT [INTO] t [(cols)] VALUES|SELECT|SET|DEFAULT…: "Insert tab A into slot B" is prose.
        this.advance();
        if (this.is(Tok.Keyword, 'INTO')) this.advance();
        this.parseQualifiedName();
        if (this.is(Tok.LParen)) {
          this.advance();
          this.parseExprList();
          this.close();
        }
        if (
          !this.is(Tok.Keyword, 'VALUES') &&
          !this.is(Tok.Name, 'VALUE') &&
          !this.is(Tok.Statement, 'SELECT') &&
          !this.is(Tok.Statement, 'SET') &&
          !this.is(Tok.Name, 'DEFAULT')
        ) {
          this.fail();
          return;
        }
        this.skipLoose();
        return;
      case 'MERGE':
        this.advance();
        if (this.is(Tok.Keyword, 'INTO')) this.advance();
        this.expect(Tok.Name);
        this.skipLoose();
        return;
      case 'UPDATE':
        this.advance();
        this.expect(Tok.Name);
        this.expect(Tok.Statement, 'SET');
        this.skipLoose();
        return;
      case 'DELETE':
        // DELETE [FROM] t [alias] WHERE|USING|LIMIT|ORDER|RETURNING…, or nothing more:
        // "Delete the old files, then…" is prose.
        this.advance();
        if (this.is(Tok.Keyword, 'FROM')) this.advance();
        this.parseQualifiedName();
        if (this.is(Tok.Name) && !this.is(Tok.Name, 'RETURNING')) this.advance();
        if (
          !this.is(Tok.End) &&
          !this.is(Tok.Semicolon) &&
          !this.is(Tok.Keyword, 'WHERE') &&
          !this.is(Tok.Keyword, 'USING') &&
          !this.is(Tok.Keyword, 'LIMIT') &&
          !this.is(Tok.Keyword, 'ORDER') &&
          !this.is(Tok.Name, 'RETURNING')
        ) {
          this.fail();
          return;
        }
        this.skipLoose();
        return;
      case 'CALL':
        this.advance();
        this.expect(Tok.Name);
        if (!this.is(Tok.LParen) || this.tok.start !== this.prevEnd) {
          this.fail();
          return;
        }
        this.skipLoose();
        return;
      case 'EXEC':
      case 'EXECUTE':
        this.advance();
        if (this.is(Tok.Name)) {
          if (!this.parseProcedureName(false)) {
            this.fail();
            return;
          }
        } else if (this.is(Tok.Variable) || this.is(Tok.LParen) || this.is(Tok.String)) {
          this.advance();
        } else {
          this.fail();
          return;
        }
        this.skipLoose();
        return;
      case 'DECLARE':
      case 'SET':
        this.advance();
        if (!this.is(Tok.Variable) && !this.is(Tok.Name)) {
          this.fail();
          return;
        }
        this.advance();
        this.skipLoose();
        return;
      default: {
        this.fail();
        return;
      }
    }
  }

  /**
   * PostgreSQL's `COPY t [(cols)] FROM|TO 'file' | PROGRAM 'cmd' | STDIN`, or `COPY (query) TO …`:
   * a server-side file path or a program is file or command access.
   */
  private parseCopy(): void {
    this.advance();
    if (this.is(Tok.LParen)) {
      this.advance();
      this.parseSelect();
      this.close();
    } else {
      this.parseQualifiedName();
      if (this.is(Tok.LParen)) {
        this.advance();
        this.parseExprList();
        this.close();
      }
    }
    if (!this.is(Tok.Keyword, 'FROM') && !this.is(Tok.Keyword, 'TO')) {
      this.fail();
      return;
    }
    this.advance();
    if (this.is(Tok.Name, 'PROGRAM')) {
      this.advance();
      if (!this.is(Tok.String)) {
        this.fail();
        return;
      }
      this.f.attackFunc = true;
    } else if (this.is(Tok.String)) {
      if (looksLikeServerPath(this.lexer.source, this.tok)) this.f.attackFunc = true;
    } else if (!this.is(Tok.Name)) {
      // An unquoted path (`TO /tmp/x`) is a syntax error in PostgreSQL, but still a COPY.
      this.skipLoose();
      return;
    }
    this.advance();
    this.skipLoose();
  }

  /** The rest of a statement we do not model in detail, up to `;` or the end. */
  private skipLoose(): void {
    let depth = 0;
    while (!this.is(Tok.End)) {
      if (this.is(Tok.Semicolon) && depth === 0) return;
      if (this.is(Tok.LParen)) depth++;
      else if (this.is(Tok.RParen)) depth--;
      else if (this.is(Tok.Unknown)) {
        this.fail();
        return;
      }
      this.advance();
    }
  }

  parseSelect(): void {
    this.expect(Tok.Statement, 'SELECT');
    this.f.select = true;
    this.enter();
    while (this.is(Tok.Keyword, 'ALL') || this.is(Tok.Keyword, 'DISTINCT')) this.advance();
    if (this.is(Tok.Keyword, 'TOP')) {
      this.advance();
      this.parsePrimary();
    }
    for (;;) {
      this.parseSelectItem();
      if (!this.is(Tok.Comma)) break;
      this.advance();
    }
    if (this.is(Tok.Keyword, 'INTO')) {
      this.advance();
      this.parseInto();
    }
    if (this.is(Tok.Keyword, 'FROM')) {
      this.advance();
      this.parseTables();
    }
    if (this.is(Tok.Keyword, 'WHERE')) {
      this.advance();
      this.parseExpr();
    }
    while (this.is(Tok.Keyword) && this.parseClause()) {
      /* GROUP BY, HAVING, ORDER BY, LIMIT… */
    }
    this.depth--;
  }

  private parseSelectItem(): void {
    if (this.is(Tok.Operator, '*')) {
      this.advance();
      return;
    }
    this.parseExpr();
    if (this.is(Tok.Keyword, 'AS')) {
      this.advance();
      if (!this.is(Tok.Name) && !this.is(Tok.String)) {
        this.fail();
        return;
      }
      this.advance();
    } else if (this.is(Tok.Name) || this.is(Tok.String)) {
      this.advance();
    }
  }

  private parseTables(): void {
    for (;;) {
      this.parseTableRef();
      if (this.is(Tok.Comma)) {
        this.advance();
        continue;
      }
      let joined = false;
      while (
        this.is(Tok.Keyword, 'NATURAL') ||
        this.is(Tok.Keyword, 'LEFT') ||
        this.is(Tok.Keyword, 'RIGHT') ||
        this.is(Tok.Keyword, 'FULL') ||
        this.is(Tok.Keyword, 'INNER') ||
        this.is(Tok.Keyword, 'CROSS') ||
        this.is(Tok.Keyword, 'OUTER')
      ) {
        this.advance();
      }
      if (this.is(Tok.Keyword, 'JOIN')) {
        this.advance();
        this.parseTableRef();
        if (this.is(Tok.Keyword, 'ON')) {
          this.advance();
          this.parseExpr();
        } else if (this.is(Tok.Keyword, 'USING')) {
          this.advance();
          this.parsePrimary();
        }
        joined = true;
      }
      if (!joined) return;
    }
  }

  private parseTableRef(): void {
    if (this.is(Tok.LParen)) {
      this.advance();
      this.parseSelect();
      this.f.subquery = true;
      this.close();
    } else {
      this.parseQualifiedName();
    }
    if (this.is(Tok.Keyword, 'AS')) {
      this.advance();
      this.expect(Tok.Name);
    } else if (this.is(Tok.Name)) {
      this.advance();
    }
  }

  private parseQualifiedName(): void {
    if (!this.is(Tok.Name) && !this.is(Tok.Keyword, 'USER') && !this.is(Tok.Keyword, 'DATABASE')) {
      this.fail();
      return;
    }
    this.advance();
    while (this.is(Tok.Dot)) {
      this.advance();
      if (this.is(Tok.Operator, '*') || this.is(Tok.Name) || this.is(Tok.Keyword)) this.advance();
      else {
        this.fail();
        return;
      }
    }
  }

  // ---- expressions ---------------------------------------------------------------------------

  parseExpr(): void {
    this.enter();
    this.parseUnary();
    this.parseBinaryRest(0);
    this.depth--;
  }

  private parseUnary(): void {
    const t = this.tok;
    if (
      (t.type === Tok.Operator &&
        (t.value === '-' || t.value === '+' || t.value === '~' || t.value === '!')) ||
      (t.type === Tok.Keyword && (t.value === 'NOT' || t.value === 'BINARY'))
    ) {
      this.advance();
      this.enter();
      this.parseUnary();
      this.depth--;
      return;
    }
    this.parsePrimary();
  }

  /** Binary operators and predicates after an operand, with precedence climbing. */
  parseBinaryRest(minPrec: number): void {
    for (;;) {
      const t = this.tok;
      const prec = precedence(t);
      if (prec < 0 || prec < minPrec) return;
      if (t.type === Tok.Logic) {
        if (t.value === '||') this.f.pipes = true;
        else this.f.logic = true;
      } else if (t.type === Tok.Operator) {
        if (COMPARISON.has(t.value)) this.f.compare = true;
        else this.f.arith = true;
      } else {
        this.f.compare = true;
      }
      if (t.type === Tok.Keyword && (PREDICATE_WORDS.has(t.value) || t.value === 'NOT')) {
        this.parsePredicate();
        continue;
      }
      this.advance();
      this.enter();
      this.parseUnary();
      this.parseBinaryRest(prec + 1);
      this.depth--;
    }
  }

  /** IS [NOT] NULL, [NOT] LIKE x [ESCAPE y], [NOT] IN (…), [NOT] BETWEEN a AND b, SOUNDS LIKE… */
  private parsePredicate(): void {
    if (this.is(Tok.Keyword, 'IS')) {
      this.advance();
      if (this.is(Tok.Keyword, 'NOT')) this.advance();
      this.parseUnary();
      return;
    }
    if (this.is(Tok.Keyword, 'NOT')) this.advance();
    const word = this.tok.value;
    if (!(this.tok.type === Tok.Keyword && PREDICATE_WORDS.has(word))) {
      this.fail();
      return;
    }
    this.advance();
    if (word === 'SOUNDS') this.expect(Tok.Keyword, 'LIKE');
    if (word === 'SIMILAR') this.expect(Tok.Keyword, 'TO');
    if (word === 'IN') {
      this.expect(Tok.LParen);
      if (this.is(Tok.Statement, 'SELECT')) {
        this.parseSelect();
        this.f.subquery = true;
      } else {
        this.parseExprList();
      }
      this.close();
      return;
    }
    if (word === 'BETWEEN') {
      this.parseUnary();
      this.parseBinaryRest(3);
      this.expect(Tok.Logic, 'AND');
      this.parseUnary();
      this.parseBinaryRest(3);
      return;
    }
    this.parseUnary();
    this.parseBinaryRest(5);
    if (this.is(Tok.Keyword, 'ESCAPE')) {
      this.advance();
      this.parsePrimary();
    }
  }

  private parseExprList(): void {
    if (this.is(Tok.RParen)) return;
    for (;;) {
      this.parseExpr();
      if (!this.is(Tok.Comma)) return;
      this.advance();
    }
  }

  parsePrimary(): void {
    const t = this.tok;
    switch (t.type) {
      case Tok.Number:
        this.advance();
        return;
      case Tok.String:
        // Adjacent literals concatenate (MySQL): 'a' 'b'.
        do this.advance();
        while (this.is(Tok.String));
        return;
      case Tok.Variable:
        this.f.variable = true;
        this.advance();
        return;
      case Tok.LParen:
        this.advance();
        this.enter();
        if (this.is(Tok.Statement, 'SELECT')) {
          this.parseSelect();
          this.f.subquery = true;
          if (this.is(Tok.Union)) {
            this.advance();
            if (this.is(Tok.Keyword, 'ALL')) this.advance();
            this.parseSelect();
            this.f.union = true;
          }
        } else {
          this.parseExprList();
        }
        this.depth--;
        this.close();
        return;
      case Tok.Keyword:
        if (t.value === 'NULL' || t.value === 'TRUE' || t.value === 'FALSE' || t.value === 'UNKNOWN') {
          this.f.keywordLiteral = true;
          this.advance();
          return;
        }
        if (t.value === 'CASE') {
          this.parseCase();
          return;
        }
        if (t.value === 'EXISTS') {
          this.advance();
          this.expect(Tok.LParen);
          this.parseSelect();
          this.f.subquery = true;
          this.close();
          return;
        }
        if (t.value === 'INTERVAL') {
          this.advance();
          this.parseUnary();
          this.parseBinaryRest(8);
          this.expect(Tok.Name);
          return;
        }
        if (FUNCTION_KEYWORDS.has(t.value)) {
          this.parseNameOrCall();
          return;
        }
        {
          this.fail();
          return;
        }
      case Tok.Statement:
        if (t.value === 'REPLACE' || t.value === 'INSERT' || t.value === 'TRUNCATE') {
          this.parseNameOrCall();
          return;
        }
        {
          this.fail();
          return;
        }
      case Tok.Name:
        this.parseNameOrCall();
        return;
      default: {
        this.fail();
        return;
      }
    }
  }

  private parseNameOrCall(): void {
    const first = this.tok;
    this.advance();
    while (this.is(Tok.Dot)) {
      this.advance();
      if (this.is(Tok.Operator, '*')) {
        this.advance();
        return;
      }
      if (!this.is(Tok.Name) && !this.is(Tok.Keyword)) {
        this.fail();
        return;
      }
      this.advance();
    }
    if (this.is(Tok.LParen)) {
      // `Word (1993)` is prose; SQL calls are written tight, except when the name says otherwise.
      if (this.tok.start > this.prevEnd && !ATTACK_FUNCTIONS.has(first.value)) {
        this.fail();
        return;
      }
      this.parseCallArgs(first.value);
      return;
    }
    if (first.type !== Tok.Name && first.value !== 'USER' && first.value !== 'DATABASE') {
      this.fail();
      return;
    }
    // Niladic functions: CURRENT_USER, SESSION_USER…
    if (first.end === this.prevEnd && ATTACK_FUNCTIONS.has(first.value) && first.value.includes('_')) {
      this.f.attackFunc = true;
    }
  }

  private parseCallArgs(name: string): void {
    this.f.func = true;
    if (ATTACK_FUNCTIONS.has(name)) this.f.attackFunc = true;
    this.advance(); // (
    this.enter();
    if (this.is(Tok.RParen)) {
      this.advance();
      this.depth--;
      return;
    }
    if (this.is(Tok.Operator, '*')) {
      this.advance();
    } else if (this.is(Tok.Statement, 'SELECT')) {
      this.parseSelect();
      this.f.subquery = true;
    } else {
      if (this.is(Tok.Keyword, 'DISTINCT') || this.is(Tok.Keyword, 'ALL')) this.advance();
      this.parseExpr();
      for (;;) {
        if (this.is(Tok.Comma)) {
          this.advance();
          this.parseExpr();
        } else if (this.is(Tok.Keyword, 'AS')) {
          // CAST(x AS type(n))
          this.advance();
          if (!this.is(Tok.Name) && !this.is(Tok.Keyword)) {
            this.fail();
            return;
          }
          this.advance();
          if (this.is(Tok.LParen)) {
            this.advance();
            this.parseExprList();
            this.close();
          }
        } else if (this.is(Tok.Keyword, 'USING')) {
          this.advance();
          this.expect(Tok.Name);
        } else if (
          this.is(Tok.Keyword, 'FROM') ||
          this.is(Tok.Keyword, 'FOR') ||
          this.is(Tok.Keyword, 'IN')
        ) {
          this.advance();
          this.parseExpr();
        } else {
          break;
        }
      }
    }
    this.depth--;
    this.close();
  }

  private parseCase(): void {
    this.advance();
    if (!this.is(Tok.Keyword, 'WHEN')) this.parseExpr();
    while (this.is(Tok.Keyword, 'WHEN')) {
      this.advance();
      this.parseExpr();
      this.expect(Tok.Keyword, 'THEN');
      this.parseExpr();
    }
    if (this.is(Tok.Keyword, 'ELSE')) {
      this.advance();
      this.parseExpr();
    }
    if (this.is(Tok.Keyword, 'END')) this.advance();
    else if (!this.is(Tok.End)) {
      this.fail();
      return;
    }
  }
}

/** A string literal holding an absolute or relative file path (`'/etc/passwd'`, `'C:\\x'`). */
function looksLikeServerPath(source: string, t: Token): boolean {
  const body = source.slice(t.start + 1, t.style === 'open' ? t.end : t.end - 1);
  const c0 = body.charCodeAt(0);
  return (
    c0 === 47 ||
    c0 === 92 ||
    (body.charCodeAt(1) === 58 && (c0 | 0x20) >= 97 && (c0 | 0x20) <= 122) ||
    body.includes('/') ||
    body.includes('\\')
  );
}

function precedence(t: Token): number {
  switch (t.type) {
    case Tok.Logic:
      return t.value === 'AND' || t.value === '&&' ? 2 : 1;
    case Tok.Operator:
      switch (t.value) {
        case '|':
          return 5;
        case '&':
          return 6;
        case '<<':
        case '>>':
          return 7;
        case '+':
        case '-':
          return 8;
        case '*':
        case '/':
        case '%':
          return 9;
        case '^':
          return 10;
        case '->':
        case '->>':
        case '::':
          return 11;
        case '~':
        case '!':
          return -1;
        default:
          return COMPARISON.has(t.value) ? 4 : -1;
      }
    case Tok.Keyword:
      if (t.value === 'DIV' || t.value === 'MOD') return 9;
      if (t.value === 'COLLATE') return 11;
      if (t.value === 'NOT' || PREDICATE_WORDS.has(t.value)) return 4;
      return -1;
    default:
      return -1;
  }
}

type SqlContext = 'bare' | "'" | '"';

function analyse(text: string, context: SqlContext, options: LexerOptions): SqlFeatures | undefined {
  const lexerOptions: LexerOptions = context === 'bare' ? options : { ...options, quote: context };
  const parser = new SqlParser(new SqlLexer(text, lexerOptions));
  const parsed = context === 'bare' ? parser.parseBare() : parser.parseQuoted();
  if (parser.failed) return parser.snapshot;
  return parsed ? parser.f : undefined;
}

/** A SQL finding before it becomes a public `Threat`. */
export interface SqlFinding {
  rule: string;
  reason: string;
  start: number;
  end: number;
  fingerprint: string;
}

const LEVEL_RANK: Readonly<Record<GuardLevel, number>> = { low: 0, balanced: 1, strict: 2 };

/** Decides whether what was parsed is an injection at this level. */
function judge(f: SqlFeatures, context: SqlContext, level: GuardLevel): [string, string] | undefined {
  const rank = LEVEL_RANK[level];
  const quoted = context !== 'bare';
  const where = quoted ? 'closes the string literal and ' : '';
  if (!f.complete) {
    // The text stopped being SQL somewhere; judge the prefix that was, and only on strong signs.
    if (quoted && f.breakout && f.logic && (f.compare || f.func) && f.syntaxTokens >= 3) {
      return ['sqli.tautology', `${where}adds an AND/OR condition`];
    }
    if (quoted && f.breakout && f.clause && f.syntaxTokens >= 3) {
      return ['sqli.clause', `${where}appends an ORDER BY/GROUP BY clause`];
    }
    if (!quoted && f.leadingTail && f.logic && f.compare && f.func) {
      return ['sqli.tautology', 'appends an AND/OR condition with a function call'];
    }
    return undefined;
  }
  if (f.union) return ['sqli.union', `${where}appends a UNION SELECT`];
  if (f.stacked) return ['sqli.stacked-query', `${where}starts a second statement after ';'`];
  if (f.attackFunc && (quoted || f.leadingTail || f.func || f.statement)) {
    return ['sqli.attack-function', `${where}calls a time-delay, file or server function`];
  }
  if (f.clause && (quoted || f.leadingTail))
    return ['sqli.clause', `${where}appends an ORDER BY/GROUP BY/LIMIT clause`];
  const strongOperand = f.compare || f.func || f.subquery || f.keywordLiteral || f.variable;
  if (quoted) {
    if (f.logic) return ['sqli.tautology', `${where}adds an AND/OR condition`];
    if (f.subquery) return ['sqli.subquery', `${where}embeds a subquery`];
    const mysqlComment = f.commentEnd === '--' || f.commentEnd === '#' || f.commentEnd === '/*';
    if (mysqlComment && f.syntaxTokens === 0)
      return ['sqli.comment-truncation', `${where}comments out the rest of the query`];
    if (f.commentEnd !== undefined && (f.compare || f.arith)) {
      return ['sqli.comment-truncation', `${where}adds a condition and comments out the rest`];
    }
    if ((f.func || f.variable) && (f.arith || f.pipes || f.compare)) {
      return ['sqli.expression', `${where}splices a function call into the query`];
    }
    // '-', '*', '^', '||': the literal is evaluated as arithmetic (in MySQL ''-'' is 0, which matches
    // every non-numeric value), the classic authentication bypass without a single keyword.
    if ((f.arith || f.pipes || f.compare) && (f.endsInString || f.commentEnd !== undefined)) {
      return ['sqli.expression', `${where}turns the literal into an expression`];
    }
    if (rank >= 1) {
      if (f.commentEnd !== undefined)
        return ['sqli.comment-truncation', `${where}comments out the rest of the query`];
      if (f.compare || f.arith || f.pipes || f.func || f.parenClose)
        return ['sqli.expression', `${where}continues the query with an operator`];
      if (f.semicolonEnd) return ['sqli.statement-end', `${where}ends the statement`];
    }
    if (rank >= 2) return ['sqli.syntax', `${where}leaves the string literal`];
    return undefined;
  }
  // Bare context: the value must itself carry SQL, since nothing was broken out of.
  // After a number (`id = 9 order by 5`, `id = 1 rlike (select …)`): a clause probing the query's
  // columns, or a comparison with a subquery.
  if (f.numericStart && f.clause && f.clauseIndex)
    return ['sqli.clause', 'follows a number with an ORDER BY/GROUP BY/PROCEDURE clause'];
  if (f.numericStart && f.subquery && f.select && (f.compare || f.arith || f.logic))
    return ['sqli.subquery', 'compares a number with a subquery'];
  if (f.statement && f.select && (f.func || f.syntaxTokens >= 3))
    return ['sqli.statement', 'is a SELECT statement'];
  if (f.statement && f.syntaxTokens >= 4) return ['sqli.statement', 'is a SQL statement'];
  if (f.leadingTail && f.logic && (strongOperand || f.commentEnd !== undefined)) {
    return ['sqli.tautology', 'appends an AND/OR condition'];
  }
  if (f.logic && (f.compare || f.subquery || f.func || f.variable) && f.syntaxTokens >= 2) {
    return ['sqli.tautology', 'forms an AND/OR condition with a comparison'];
  }
  if (f.logic && f.keywordLiteral && f.commentEnd !== undefined)
    return ['sqli.tautology', 'forms an always-true condition'];
  if (rank >= 1) {
    if (f.logic && f.syntaxTokens >= 2 && (strongOperand || f.commentEnd !== undefined || f.leadingTail))
      return ['sqli.tautology', 'forms an AND/OR condition'];
    if (f.statement && f.syntaxTokens >= 2) return ['sqli.statement', 'is a SQL statement'];
    if (f.func && (f.commentEnd !== undefined || f.compare))
      return ['sqli.expression', 'calls a SQL function'];
    if (f.commentEnd !== undefined && f.commentEnd !== '#' && f.syntaxTokens >= 1) {
      return ['sqli.comment-truncation', 'ends in a SQL comment'];
    }
  }
  if (rank >= 2) {
    if ((f.logic && f.syntaxTokens >= 2) || f.pipes || f.statement || f.clause || f.subquery) {
      return ['sqli.syntax', 'contains SQL syntax'];
    }
    if (f.func && f.syntaxTokens >= 2) return ['sqli.syntax', 'contains a SQL function call'];
    if (f.commentEnd !== undefined) return ['sqli.syntax', 'contains a SQL comment'];
  }
  return undefined;
}

const SQL_WORD =
  /\b(?:and|or|xor|not|union|select|insert|update|delete|drop|create|alter|truncate|exec|execute|declare|shutdown|waitfor|order|group|having|limit|into|procedure|like|rlike|regexp|between|is|in|null|true|false|sleep|benchmark|copy|call|set|load|grant|revoke|show|use|rename|merge|replace|handler|prepare|kill|backup|restore|dbcc|intersect|except|offset|div|mod|sounds|glob|similar|ilike|current_user|session_user|system_user)\b/i;

/**
 * A bare value can only be SQL with SQL punctuation or a keyword in it: most text has neither,
 * and skips the parser.
 */
const SQL_PUNCTUATION =
  C.ANGLE | C.SEPARATOR | C.PAREN | C.EQUALS | C.SLASH | C.PERCENT | C.OPERATOR | C.BACKTICK;

/** The words of `SQL_WORD`, for looking up one word without running the regex. */
const SQL_WORDS: ReadonlySet<string> = new Set(
  SQL_WORD.source.slice('\\b(?:'.length, -')\\b'.length).split('|'),
);

/** `SQL_WORD.test(text.slice(start, end))` for a run of word characters, without the regex. */
function isSqlWord(text: string, start: number, end: number): boolean {
  if (end - start < 2 || end - start > 12) return false;
  for (let k = start; k < end; k++) {
    // `\b` treats non-ASCII as a boundary: such words keep the regex.
    if (text.charCodeAt(k) > 127) return SQL_WORD.test(text.slice(start, end));
  }
  return SQL_WORDS.has(text.slice(start, end).toLowerCase());
}

function bareMayBeSql(text: string, mask: number): boolean {
  if ((mask & SQL_PUNCTUATION) === 0 && !((mask & C.LETTER) !== 0 && SQL_WORD.test(text))) return false;
  return !startsWithProse(text) && !literalThenWord(text);
}

/**
 * `'Quoted text' and more`, `"A title" by someone`: spliced bare, a string literal followed by a
 * plain name is a syntax error at the name, which is where the parser would stop, having seen
 * nothing. Decided without lexing, for the many values that open with a quotation.
 */
function literalThenWord(text: string): boolean {
  let i = 0;
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  const q = text.charCodeAt(i);
  if (q !== 39 && q !== 34) return false;
  let close = text.indexOf(text[i]!, i + 1);
  while (close !== -1 && text.charCodeAt(close + 1) === q) close = text.indexOf(text[i]!, close + 2);
  if (close === -1 || text.indexOf('/*') !== -1) return false;
  let start = close + 1;
  while (start < text.length && isBlank(text.charCodeAt(start))) start++;
  if (start === text.length) return true; // the whole value is one literal
  let end = start;
  while (end < text.length && isWordCode(text.charCodeAt(end))) end++;
  if (end === start || end - start > 30) return false;
  const next = text.charCodeAt(end);
  // A digit, `$` or a quote after the word would make it something else (`N'…'`, `a1`, `x$`).
  if ((next >= 48 && next <= 57) || next === 36 || next === 39 || next === 34) return false;
  return classifyWord(text.slice(start, end).toUpperCase()) === Tok.Name;
}

function isWordCode(c: number): boolean {
  return ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 95 || c > 127;
}

/**
 * Two plain words in a row (`She was`, `Boogie Nights`) are not SQL in any position a bare value
 * takes, and prose nearly always starts that way: skip the parser for it.
 */
function startsWithProse(text: string): boolean {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 32) i++;
  const first = i;
  while (i < text.length && isWordCode(text.charCodeAt(i))) i++;
  if (i === first || i - first > 30) return false;
  if (isSqlWord(text, first, i)) return false;
  const firstEnd = i;
  // `Becton, Dickinson`: list punctuation after a word is still prose.
  const p = text.charCodeAt(i);
  if (p === 44 || p === 46 || p === 58 || p === 33 || p === 63) i++;
  const gap = i;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  if (i === gap) return false;
  const second = i;
  while (i < text.length && isWordCode(text.charCodeAt(i))) i++;
  if (i === second) return false;
  return !isSqlWord(text, second, i) && !ATTACK_FUNCTIONS.has(text.slice(first, firstEnd).toUpperCase());
}

/**
 * After the first unescaped quote, SQL goes on with an operator, punctuation, a comment, a
 * keyword or nothing. A plain word there (`O'Brien`, `'She said'`) cannot continue SQL.
 */
function breakoutMayBeSql(text: string, quote: string): boolean {
  let at = text.indexOf(quote);
  // A doubled quote is an escaped quote inside the literal.
  while (at !== -1 && text[at + 1] === quote) at = text.indexOf(quote, at + 2);
  if (at === -1) return text.indexOf('\\') !== -1;
  let i = at + 1;
  while (i < text.length && (text.charCodeAt(i) <= 32 || text.charCodeAt(i) === 0xa0)) i++;
  if (i >= text.length) return true;
  const c = text.charCodeAt(i);
  const letter = (c | 0x20) >= 97 && (c | 0x20) <= 122;
  if (!letter) return true;
  let end = i;
  while (
    end < text.length &&
    /* word */ (((text.charCodeAt(end) | 0x20) >= 97 && (text.charCodeAt(end) | 0x20) <= 122) ||
      text.charCodeAt(end) === 95)
  )
    end++;
  return isSqlWord(text, i, end) || text.indexOf('\\') !== -1 || text.indexOf('/*') !== -1;
}

function hasWordOrDigit(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (isWordCode(c) || (c >= 48 && c <= 57)) return true;
  }
  return false;
}

/** From `from` to `to` there are only SQL keywords, punctuation and spaces (no other words). */
function onlySqlAfter(text: string, from: number, to: number): boolean {
  let k = from;
  while (k < to) {
    const c = text.charCodeAt(k);
    if (isWordCode(c) || (c >= 48 && c <= 57)) {
      const start = k;
      while (
        k < to &&
        (isWordCode(text.charCodeAt(k)) || (text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57))
      )
        k++;
      if (!isSqlWord(text, start, k)) return false;
      continue;
    }
    k++;
  }
  return true;
}

function probeFinding(rule: string, reason: string, start: number, end: number): SqlFinding {
  return { rule, reason: `SQL: the value ${reason}`, start, end, fingerprint: '' };
}

function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Values with no text in them that exist only to make a query fail or stop: a NUL byte (where
 * C-based layers, drivers and logs among them, cut a string short), a number followed
 * by a lone quote, backtick or backslash (`1'`, the error probe for a numeric parameter) or by a
 * block comment (`1/*'*\/`, `1/*!1111'*\/`); a value that starts with a comment (`-- `, `/*`), which
 * truncates the query where it is spliced; a lone `;`.
 */
function probeShape(text: string, mask: number): SqlFinding | undefined {
  if ((mask & C.CONTROL) !== 0) {
    const nul = text.indexOf('\0');
    if (nul !== -1)
      return {
        rule: 'sqli.nul-byte',
        reason: 'SQL: the value holds a NUL byte, where C-based layers cut the query short',
        start: nul,
        end: nul + 1,
        fingerprint: '',
      };
  }
  if ((mask & (C.QUOTE | C.BACKTICK | C.SLASH | C.OPERATOR | C.SEPARATOR)) === 0) return undefined;
  let i = 0;
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  const start = i;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  const numeric = i > start;
  let end = text.length;
  while (end > i && isBlank(text.charCodeAt(end - 1))) end--;
  if (end === i) return undefined;
  const c = text.charCodeAt(i);
  const blockComment = c === 47 && text.charCodeAt(i + 1) === 42;
  if (numeric) {
    if (end === i + 1 && (c === 39 || c === 34 || c === 96 || c === 92))
      return probeFinding(
        'sqli.probe',
        'is a number followed by a lone quote, the probe for SQL errors',
        start,
        end,
      );
    if (blockComment) return probeFinding('sqli.probe', 'is a number followed by a SQL comment', start, end);
    return undefined;
  }
  if (end === i + 1 && c === 59)
    return probeFinding('sqli.statement-end', 'only ends the statement', start, end);
  if (blockComment) {
    // Unclosed, it swallows the rest of the query; closed, it counts only with nothing in it
    // (`/**/`, `/*…*/`): `/* TODO: fix this */` is a note.
    const close = text.indexOf('*/', i + 2);
    if (close === -1 || (!hasWordOrDigit(text, i + 2, close) && onlySqlAfter(text, close + 2, end)))
      return probeFinding(
        'sqli.comment-truncation',
        'starts with a SQL comment that cuts off the query',
        start,
        end,
      );
  } else if (c === 45 && text.charCodeAt(i + 1) === 45 && (i + 2 >= end || isBlank(text.charCodeAt(i + 2)))) {
    // `-- ` followed by nothing but SQL (`-- or #`); `-- Sent from my phone` is a signature.
    if (onlySqlAfter(text, i + 2, end))
      return probeFinding(
        'sqli.comment-truncation',
        'starts with a SQL comment that cuts off the query',
        start,
        end,
      );
  }
  return undefined;
}

/**
 * Looks for SQL injection in one (already decoded) value.
 *
 * @example
 * ```ts
 * findSqlInjection("admin' OR '1'='1", 'low')?.rule; // 'sqli.tautology'
 * findSqlInjection("O'Brien", 'low'); // undefined
 * ```
 */
export function findSqlInjection(
  value: string,
  level: GuardLevel,
  mask = charMask(value),
): SqlFinding | undefined {
  const text = (mask & C.CONFUSABLE) === 0 ? value : foldQuotes(value);
  const folded = text === value ? mask : charMask(text);
  const probe = probeShape(text, folded);
  if (probe !== undefined) return probe;
  const contexts: SqlContext[] = [];
  if (bareMayBeSql(text, folded)) contexts.push('bare');
  if ((folded & C.APOSTROPHE) !== 0 && breakoutMayBeSql(text, "'")) contexts.push("'");
  if ((folded & C.DOUBLE_QUOTE) !== 0 && breakoutMayBeSql(text, '"')) contexts.push('"');
  if (contexts.length === 0) return undefined;
  const variants: LexerOptions[] = [{}];
  if (text.indexOf('/*') !== -1) variants.push({ joinComments: true });
  if (text.indexOf('\\') !== -1) variants.push({ backslashEscapes: true });
  for (const context of contexts) {
    for (const variant of variants) {
      if (variant.backslashEscapes && context === 'bare') continue;
      const f = analyse(text, context, variant);
      if (f === undefined) continue;
      const verdict = judge(f, context, level);
      if (verdict !== undefined) {
        const start = Math.max(0, f.start);
        return {
          rule: verdict[0],
          reason: `SQL: the value ${verdict[1]}`,
          start: Math.min(start, text.length),
          end: Math.max(start, Math.min(f.end, text.length)),
          fingerprint: f.fingerprint,
        };
      }
    }
  }
  return undefined;
}

/**
 * Command injection by shell grammar: command separators (`;`, `|`, `&`, `&&`, `||`, newline)
 * followed by a command, command substitution (`$( )`, backticks), parameter expansion tricks
 * (`${IFS}`), Shellshock function definitions, a whole value that is a command line, server-side
 * code (`<?php`, SSI `<!--#exec`) and calls of functions that run commands.
 *
 * Separators are common in prose (`years; make it`, `salt & pepper`), so a separator counts only
 * when what follows is a command in the shell's sense: a known command or an executable path,
 * placed where an injection puts it (at the start, glued to a value: `a;id`) or given arguments
 * that only a shell reads (flags, absolute paths, redirections, URLs).
 */
import type { GuardLevel } from '../types';
import { C, charMask } from './chars';
import { COMMANDS, EXEC_FUNCTIONS, NO_ARGUMENT_PROBES } from './shell-words';

export interface CommandFinding {
  rule: string;
  reason: string;
  start: number;
  end: number;
}

const LEVEL_RANK: Readonly<Record<GuardLevel, number>> = { low: 0, balanced: 1, strict: 2 };

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 11 || c === 12 || c === 0xa0;
}
function isNewline(c: number): boolean {
  return c === 10 || c === 13;
}
/** Characters that end a shell word. */
function isMeta(c: number): boolean {
  return (
    isSpace(c) ||
    isNewline(c) ||
    c === 59 || // ;
    c === 124 || // |
    c === 38 || // &
    c === 60 || // <
    c === 62 || // >
    c === 40 || // (
    c === 41 || // )
    c === 96 // `
  );
}
function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 95 || c === 45 || c === 46;
}

/** Reads the shell word starting at `from` (quotes removed, as the shell would). */
function readWord(text: string, from: number): { word: string; end: number } {
  // Most words have no quotes or escapes: find the end and slice.
  let end = from;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (isMeta(c) || c === 39 || c === 34 || c === 92) break;
    end++;
  }
  if (end >= text.length || isMeta(text.charCodeAt(end))) return { word: text.slice(from, end), end };
  let i = from;
  let word = '';
  while (i < text.length && !isMeta(text.charCodeAt(i))) {
    const c = text.charCodeAt(i);
    if (c === 39 || c === 34) {
      const close = text.indexOf(text[i]!, i + 1);
      if (close === -1) break;
      word += text.slice(i + 1, close);
      i = close + 1;
      continue;
    }
    if (c === 92 /* \ */ && i + 1 < text.length && !(/* Windows path */ isWordChar(text.charCodeAt(i + 1)))) {
      word += text[i + 1];
      i += 2;
      continue;
    }
    word += text[i];
    i++;
  }
  return { word, end: i };
}

/** `/bin/sh`, `/usr/bin/id`, `./run`, `C:\Windows\system32\cmd.exe`, `%COMSPEC%`. */
function isExecutablePath(word: string): boolean {
  if (word.length < 2) return false;
  const c0 = word.charCodeAt(0);
  if (c0 === 47 /* / */ || (c0 === 46 && word.charCodeAt(1) === 47)) {
    const last = word.slice(word.lastIndexOf('/') + 1);
    return last.length > 0 && isPlainName(last) && word.indexOf('/', 1) !== -1;
  }
  if ((c0 | 0x20) >= 97 && (c0 | 0x20) <= 122 && word.charCodeAt(1) === 58 && word.charCodeAt(2) === 92) {
    return /\.(?:exe|bat|cmd|com|ps1|vbs)$/i.test(word);
  }
  return c0 === 37 /* % */ && word.length > 2 && word.charCodeAt(word.length - 1) === 37;
}

function isPlainName(word: string): boolean {
  for (let i = 0; i < word.length; i++) if (!isWordChar(word.charCodeAt(i))) return false;
  return true;
}

/** The command word as the shell would look it up: basename, lower-cased, `.exe` dropped. */
function commandName(word: string): string {
  let name = word.toLowerCase();
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  if (slash !== -1) name = name.slice(slash + 1);
  if (name.endsWith('.exe')) name = name.slice(0, -4);
  return name;
}

function isCommand(word: string): boolean {
  if (word.length === 0) return false;
  if (isPlainLowerWord(word)) return COMMANDS.has(word); // most words: no case, path or extension to strip
  return COMMANDS.has(commandName(word)) || isExecutablePath(word) || isBraceCommand(word);
}

/**
 * `{cat,/etc/passwd}`: bash brace expansion turns the word into `cat /etc/passwd`, a command with
 * arguments and no space (the usual way past filters of spaces). The arguments must look like a
 * shell's (paths, flags, variables), so `{cat,dog}` stays a pair of words.
 */
function isBraceCommand(word: string): boolean {
  if (word.charCodeAt(0) !== 123 /* { */) return false;
  const comma = word.indexOf(',');
  if (comma < 2) return false;
  const name = word.slice(1, comma);
  if (!(COMMANDS.has(commandName(name)) || isExecutablePath(name))) return false;
  for (let i = comma + 1; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c === 47 || c === 45 || c === 36 || c === 92 || c === 46) return true;
  }
  return false;
}

/** `[a-z0-9_-]+`, which `commandName` leaves as it is and no executable path looks like. */
function isPlainLowerWord(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45)) return false;
  }
  return true;
}

/**
 * Arguments only a shell would read: flags (`-la`, `--help`, Windows `/all`), absolute or drive
 * paths, globs, redirections, variables, URLs and addresses.
 */
function shellArguments(text: string, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    while (i < to && isSpace(text.charCodeAt(i))) i++;
    if (i >= to) break;
    const c = text.charCodeAt(i);
    if (c === 62 || c === 60) return true; // redirection
    const { word, end } = readWord(text, i);
    if (end === i) {
      i++;
      continue;
    }
    i = end;
    const w0 = word.charCodeAt(0);
    const w1 = word.charCodeAt(1);
    if (
      w0 === 45 /* - */ &&
      word.length >= 2 &&
      (((w1 | 0x20) >= 97 && (w1 | 0x20) <= 122) || w1 === 45 || (w1 >= 48 && w1 <= 57))
    )
      return true;
    if (w0 === 47 /* / */ && word.length >= 2) return true;
    if (
      (w0 | 0x20) >= 97 &&
      (w0 | 0x20) <= 122 &&
      w1 === 58 &&
      (word.charCodeAt(2) === 92 || word.charCodeAt(2) === 47)
    )
      return true;
    if (w0 === 36 /* $ */ || w0 === 37 /* % */ || w0 === 126 /* ~ */) return true;
    if (word.includes('://')) return true;
    if (word.indexOf('*') !== -1 || word.indexOf('\\') !== -1) return true;
    if (isDottedNumber(word)) return true;
  }
  return false;
}

function isDottedNumber(word: string): boolean {
  let dots = 0;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c === 46) dots++;
    else if (c < 48 || c > 57) return false;
  }
  return dots === 3;
}

/** End of the command that starts at `from`: the next separator or the end. */
function segmentEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 59 || c === 124 || c === 38 || isNewline(c)) return i;
  }
  return text.length;
}

/** Text before a separator that an injection would leave there: nothing, quotes, one short value. */
const PREFIX_WINDOW = 128;

function injectionPrefix(
  text: string,
  at: number,
  budget = PREFIX_WINDOW,
): 'empty' | 'glued' | 'word' | 'prose' {
  // Bounded walks keep this linear over many separators; a prefix that long is not "one value".
  const floor = Math.max(-1, at - 1 - budget);
  let i = at - 1;
  while (i > floor && isSpace(text.charCodeAt(i))) i--;
  if (i === floor && floor >= 0) return 'prose';
  const spaced = i < at - 1;
  let start = i;
  while (start > floor && !isSpace(text.charCodeAt(start)) && !isNewline(text.charCodeAt(start))) start--;
  if (start === floor && floor >= 0) return 'prose';
  let meaningful = false;
  for (let k = start + 1; k <= i; k++) {
    const c = text.charCodeAt(k);
    if (c !== 39 && c !== 34 && c !== 96 && c !== 41 && c !== 59 && c !== 124 && c !== 38) meaningful = true;
  }
  if (!meaningful) {
    // Only quotes, separators or a `)` so far: what came before them decides.
    if (start < 0) return 'empty';
    const used = at - start;
    return used < budget && injectionPrefix(text, start + 1, budget - used) === 'empty' ? 'empty' : 'prose';
  }
  for (let k = start; k >= 0; k--) {
    if (!isSpace(text.charCodeAt(k)) && !isNewline(text.charCodeAt(k))) return 'prose';
    if (start - k > PREFIX_WINDOW) return 'prose';
  }
  return spaced ? 'word' : 'glued';
}

function separatorAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 59 || isNewline(c)) return 1;
  if (c === 124 || c === 38) return text.charCodeAt(i + 1) === c ? 2 : 1;
  return 0;
}

/** Where separators can be; found natively, since prose has few of them. */
const SEPARATOR_CHARS = /[;|&\n\r]/g;

function afterSeparator(text: string, rank: number): CommandFinding | undefined {
  let from = 0;
  for (;;) {
    SEPARATOR_CHARS.lastIndex = from;
    if (!SEPARATOR_CHARS.test(text)) return undefined;
    const i = SEPARATOR_CHARS.lastIndex - 1;
    const width = separatorAt(text, i);
    const sep = text.slice(i, i + width);
    let j = i + width;
    while (j < text.length && (isSpace(text.charCodeAt(j)) || isNewline(text.charCodeAt(j)))) j++;
    // `;|/usr/bin/id|`: several separators in a row count as one.
    while (j < text.length && separatorAt(text, j) > 0) {
      j += separatorAt(text, j);
      while (j < text.length && isSpace(text.charCodeAt(j))) j++;
    }
    const { word, end } = readWord(text, j);
    if (!isCommand(word)) {
      // Skip the run of separators just examined as one.
      from = Math.max(i + width, j);
      continue;
    }
    const segEnd = segmentEnd(text, end);
    const prefix = injectionPrefix(text, i);
    const args = shellArguments(text, end, segEnd);
    // `;`, `&` and line breaks are ordinary in prose; `|`, `&&` and `||` almost never are. A
    // separator counts where an injection puts it: first in the value, or glued to one short value.
    const proseSeparator = sep === ';' || sep === '&' || isNewline(sep.charCodeAt(0));
    const positioned = prefix === 'empty' || prefix === 'glued' || (!proseSeparator && prefix === 'word');
    if (positioned || args || rank >= 1) {
      return {
        rule: 'command.separator',
        reason: `Command injection: a command follows a '${isNewline(sep.charCodeAt(0)) ? 'newline' : sep}' separator`,
        start: i,
        end: segEnd,
      };
    }
    from = i + width;
  }
}

/** `$(cmd)`, `` `cmd` ``, `${IFS}`, `${@print(…)}`. */
function substitution(text: string, rank: number): CommandFinding | undefined {
  let from = 0;
  for (;;) {
    const dollar = text.indexOf('$', from);
    if (dollar === -1) break;
    from = dollar + 1;
    const next = text.charCodeAt(dollar + 1);
    if (next === 40 /* ( */) {
      const inner = text.slice(dollar + 2, dollar + 2 + 200).trimStart();
      const first = inner.charCodeAt(0);
      const { word } = readWord(inner, 0);
      if (isCommand(word) || first === 96 || first === 36 || rank >= 1) {
        return {
          rule: 'command.substitution',
          reason: 'Command injection: contains $( ) command substitution',
          start: dollar,
          end: Math.min(text.length, dollar + 2 + inner.length),
        };
      }
    } else if (next === 123 /* { */) {
      const close = text.indexOf('}', dollar + 2);
      if (close === -1) continue;
      const inner = text.slice(dollar + 2, close);
      const plainName = /^[A-Za-z_][A-Za-z0-9_.]*$/.test(inner);
      if (!plainName || inner.toUpperCase() === 'IFS' || rank >= 2) {
        return {
          rule: 'command.expansion',
          reason: 'Command injection: contains a parameter expansion that is not a plain variable',
          start: dollar,
          end: close + 1,
        };
      }
    } else if (dollar > 0 && text.charCodeAt(dollar - 1) === 123 /* { */) {
      // PHP's complex interpolation `{$_GET["cmd"]}`, `{$obj->run()}`: code inside a string that
      // PHP evaluates. A plain `{$name}` (a template placeholder) passes.
      const close = text.indexOf('}', dollar + 1);
      if (close === -1) continue;
      const inner = text.slice(dollar + 1, close);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(inner)) {
        return {
          rule: 'command.expansion',
          reason: 'Code injection: a PHP {$…} expression that is not a plain variable',
          start: dollar - 1,
          end: close + 1,
        };
      }
    } else if (text.startsWith('IFS', dollar + 1)) {
      return {
        rule: 'command.expansion',
        reason: 'Command injection: uses $IFS as a separator',
        start: dollar,
        end: dollar + 4,
      };
    }
  }
  // Backticks: `cmd …`
  let tick = text.indexOf('`');
  while (tick !== -1) {
    const close = text.indexOf('`', tick + 1);
    const body = text.slice(tick + 1, close === -1 ? text.length : close);
    const { word, end } = readWord(body.trimStart(), 0);
    const trimmed = body.trimStart();
    if (isCommand(word) && (close !== -1 || rank >= 1)) {
      const bare = trimmed.slice(end).trim().length === 0;
      if (bare || shellArguments(trimmed, end, trimmed.length) || rank >= 1 || tick === 0) {
        return {
          rule: 'command.substitution',
          reason: 'Command injection: contains backtick command substitution',
          start: tick,
          end: close === -1 ? text.length : close + 1,
        };
      }
    }
    if (close === -1) break;
    tick = text.indexOf('`', close + 1);
  }
  return undefined;
}

/** The whole value is a command line: a command with arguments only a shell reads. */
function commandLine(text: string, rank: number): CommandFinding | undefined {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  const { word, end } = readWord(text, i);
  if (!isCommand(word)) return undefined;
  const segEnd = segmentEnd(text, end);
  if (
    shellArguments(text, end, segEnd) ||
    isBraceCommand(word) ||
    (rank >= 1 && segEnd === text.length && end === text.trimEnd().length && isExecutablePath(word))
  ) {
    return {
      rule: 'command.command-line',
      reason: 'Command injection: the value is a command line',
      start: i,
      end: segEnd,
    };
  }
  return undefined;
}

/** `() { :;};` Shellshock: a function definition in a value bash imports from the environment. */
function shellshock(text: string): CommandFinding | undefined {
  const at = text.indexOf('()');
  if (at === -1 || text.slice(0, at).trim().length > 0) return undefined;
  let i = at + 2;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 123) return undefined;
  return {
    rule: 'command.shellshock',
    reason: 'Command injection: a Shellshock function definition',
    start: at,
    end: Math.min(text.length, i + 1),
  };
}

/**
 * `{{7*7}}`, `{{''.__class__}}`, `{{ f('x') }}`: a template expression that computes (server-side
 * template injection, the usual road to running commands). Plain paths such as `{{user.name}}`,
 * which workflow templates use, are not reported.
 */
function templateInjection(text: string, rank: number): CommandFinding | undefined {
  let from = 0;
  for (;;) {
    const open = text.indexOf('{', from);
    if (open === -1) return undefined;
    from = open + 1;
    if (open > 0 && text.charCodeAt(open - 1) === 35 /* # */) {
      // `#{…}`: Ruby interpolation, Java EL and Thymeleaf message expressions.
      const close = text.indexOf('}', open + 1);
      if (close !== -1 && computes(text.slice(open + 1, close))) {
        return {
          rule: 'command.template-injection',
          reason: 'Code injection: a #{…} expression that computes',
          start: open - 1,
          end: close + 1,
        };
      }
      continue;
    }
    const kind = text.charCodeAt(open + 1);
    if (kind !== 123 /* { */ && kind !== 37 /* % */) continue;
    const close = text.indexOf(kind === 123 ? '}}' : '%}', open + 2);
    if (close === -1) return undefined;
    if (computes(text.slice(open + 2, close)) || (kind === 37 && rank >= 1)) {
      return {
        rule: 'command.template-injection',
        reason: 'Code injection: a template expression that computes',
        start: open,
        end: close + 2,
      };
    }
  }
}

/** A template body that calls, indexes, reaches for dunder attributes or does arithmetic. */
function computes(body: string): boolean {
  if (body.includes('__') || body.includes('(')) return true;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 43 || c === 42 || c === 47 || c === 45 || c === 37 || c === 91) return true;
  }
  return false;
}

/** `<?php …`, `<%= … %>`, `<!--#exec cmd=…-->`: code a server would run. */
function serverCode(text: string): CommandFinding | undefined {
  const php = text.indexOf('<?');
  if (php !== -1) {
    const after = text.slice(php + 2, php + 6).toLowerCase();
    if (after.startsWith('php') || after.startsWith('=') || isSpace(after.charCodeAt(0))) {
      return {
        rule: 'command.server-code',
        reason: 'Command injection: contains a PHP code block',
        start: php,
        end: Math.min(text.length, php + 5),
      };
    }
  }
  const ssi = text.indexOf('<!--#');
  if (ssi !== -1) {
    const directive = text.slice(ssi + 5, ssi + 12).toLowerCase();
    if (
      directive.startsWith('exec') ||
      directive.startsWith('include') ||
      directive.startsWith('echo') ||
      directive.startsWith('set') ||
      directive.startsWith('config')
    ) {
      return {
        rule: 'command.ssi',
        reason: 'Command injection: contains a server-side include directive',
        start: ssi,
        end: Math.min(text.length, ssi + 12),
      };
    }
  }
  const asp = text.indexOf('<%');
  if (asp !== -1 && text.indexOf('%>', asp + 2) !== -1) {
    return {
      rule: 'command.server-code',
      reason: 'Command injection: contains a server template code block',
      start: asp,
      end: text.indexOf('%>', asp + 2) + 2,
    };
  }
  return undefined;
}

/** `system('id')`, `exec("ls")`, `phpinfo()`: a call that hands a string to a shell or interpreter. */
function execCall(text: string): CommandFinding | undefined {
  let from = 0;
  for (;;) {
    const paren = text.indexOf('(', from);
    if (paren === -1) return undefined;
    from = paren + 1;
    let start = paren;
    while (start > 0) {
      const c = text.charCodeAt(start - 1);
      if (isWordChar(c) && c !== 45) start--;
      else break;
    }
    if (start === paren) continue;
    const name = text.slice(start, paren).toLowerCase();
    const bare = name.startsWith('.') ? name.slice(1) : name;
    if (!EXEC_FUNCTIONS.has(bare) && !NO_ARGUMENT_PROBES.has(bare)) continue;
    let i = paren + 1;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    const arg = text.charCodeAt(i);
    const stringArgument = arg === 39 || arg === 34 || arg === 96 || arg === 36;
    if (stringArgument || (arg === 41 && NO_ARGUMENT_PROBES.has(bare))) {
      return {
        rule: 'command.exec-call',
        reason: `Command injection: calls ${bare}() with code to run`,
        start,
        end: i + 1,
      };
    }
  }
}

/**
 * `;`, `| `, `&&`: a probe made only of separators. Values made only of line breaks (an empty
 * line in a text area) count from `balanced` on.
 */
function onlySeparators(text: string, rank: number): CommandFinding | undefined {
  let seen = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 59 || c === 124 || c === 38 || (isNewline(c) && rank >= 1)) seen = true;
    else if (!isSpace(c) && !isNewline(c)) return undefined;
  }
  return seen
    ? {
        rule: 'command.separator',
        reason: 'Command injection: a value made of shell separators',
        start: 0,
        end: text.length,
      }
    : undefined;
}

/**
 * Looks for command injection in one (already decoded) value.
 *
 * @example
 * ```ts
 * findCommandInjection('127.0.0.1; cat /etc/passwd', 'low')?.rule; // 'command.separator'
 * findCommandInjection('Every 3 years; make it an adverb', 'low'); // undefined
 * ```
 */
export function findCommandInjection(
  text: string,
  level: GuardLevel,
  mask = charMask(text),
): CommandFinding | undefined {
  const rank = LEVEL_RANK[level];
  const found =
    ((mask & C.ANGLE) !== 0 ? serverCode(text) : undefined) ??
    ((mask & C.PAREN) !== 0 ? shellshock(text) : undefined) ??
    ((mask & (C.DOLLAR | C.BACKTICK)) !== 0 ? substitution(text, rank) : undefined) ??
    ((mask & (C.SEPARATOR | C.NEWLINE)) !== 0 ? afterSeparator(text, rank) : undefined) ??
    // A command line needs arguments only a shell reads: flags, paths, variables, redirections.
    ((mask & (C.OPERATOR | C.SLASH | C.DOLLAR | C.PERCENT | C.TILDE | C.ANGLE | C.COLON | C.DOT)) !== 0
      ? commandLine(text, rank)
      : undefined) ??
    ((mask & C.PAREN) !== 0 ? execCall(text) : undefined) ??
    ((mask & C.BRACE) !== 0 ? templateInjection(text, rank) : undefined) ??
    ((mask & (C.SEPARATOR | C.NEWLINE)) !== 0 ? onlySeparators(text, rank) : undefined);
  if (found !== undefined || rank < 2) return found;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      c === 59 ||
      c === 124 ||
      c === 96 ||
      c === 36 ||
      isNewline(c) ||
      (c === 38 && text.charCodeAt(i + 1) === 38)
    ) {
      return {
        rule: 'command.metacharacter',
        reason: 'Command injection: contains a shell metacharacter',
        start: i,
        end: i + 1,
      };
    }
  }
  return undefined;
}

/**
 * The detectors as valibot validation actions, usable in any schema:
 * `v.pipe(v.string(), noSqlInjection())`. Each issue names the rule that fired in `received`
 * (`sqli.tautology`) and never quotes the value in its message.
 */
import * as v from 'valibot';
import { analyzeCode } from './code-safety';
import { decodeViews } from './detect/decode';
import { checkResolvedSafeText, resolveSafeTextOptions } from './safe-text';
import { resolveDetectOptions, scanViews } from './scan';
import type { CodeSafetyOptions, DetectOptions, SafeTextOptions, Threat, ThreatKind } from './types';

/** The `type` of issues raised by @plat/input-guard actions. */
export type GuardIssueType =
  | 'no_sql_injection'
  | 'no_xss'
  | 'no_command_injection'
  | 'no_path_traversal'
  | 'safe_text'
  | 'safe_code';

/** A valibot issue raised by one of our actions; `received` holds the rule code. */
export interface GuardIssue extends v.BaseIssue<string> {
  readonly kind: 'validation';
  readonly type: GuardIssueType;
  readonly expected: null;
  /** The rule that fired, for example `sqli.union` or `text.too-long`. */
  readonly received: string;
  readonly requirement: (input: string) => boolean;
}

/** A valibot validation action of @plat/input-guard. */
export interface GuardAction extends v.BaseValidation<string, string, GuardIssue> {
  readonly type: GuardIssueType;
  readonly reference: (
    options?: SafeTextOptions & CodeSafetyOptions,
    message?: v.ErrorMessage<GuardIssue>,
  ) => GuardAction;
  readonly expects: null;
  readonly requirement: (input: string) => boolean;
  readonly message: v.ErrorMessage<GuardIssue> | undefined;
}

interface Finding {
  rule: string;
  reason: string;
}

function guardAction(
  type: GuardIssueType,
  reference: GuardAction['reference'],
  find: (value: string) => Finding | undefined,
  message: v.ErrorMessage<GuardIssue> | undefined,
): GuardAction {
  return {
    kind: 'validation',
    type,
    reference,
    async: false,
    expects: null,
    requirement: (input: string) => find(input) === undefined,
    message,
    '~run'(dataset, config) {
      if (dataset.typed && typeof dataset.value === 'string') {
        const found = find(dataset.value);
        if (found !== undefined) {
          v._addIssue(this, 'input', dataset, config, {
            received: found.rule,
            // Our own sentence unless the caller configured one; never the input itself.
            ...(this.message === undefined && config.message === undefined ? { message: found.reason } : {}),
          } as never);
        }
      }
      return dataset as v.OutputDataset<string, GuardIssue>;
    },
  };
}

function kindAction(
  type: GuardIssueType,
  kind: ThreatKind,
  reference: GuardAction['reference'],
  options: DetectOptions,
  message: v.ErrorMessage<GuardIssue> | undefined,
): GuardAction {
  const { level, maxDecodeRounds } = resolveDetectOptions(options);
  const kinds = [kind];
  return guardAction(
    type,
    reference,
    (value): Threat | undefined => scanViews(decodeViews(value, maxDecodeRounds), kinds, level)[0],
    message,
  );
}

/**
 * Rejects SQL injection (a value that leaves a string or numeric context and forms SQL).
 *
 * @example
 * ```ts
 * const Name = v.pipe(v.string(), noSqlInjection());
 * v.safeParse(Name, "O'Brien").success; // true
 * ```
 */
export function noSqlInjection(
  options: DetectOptions = {},
  message?: v.ErrorMessage<GuardIssue>,
): GuardAction {
  return kindAction('no_sql_injection', 'sqli', noSqlInjection, options, message);
}

/**
 * Rejects cross-site scripting (script-capable markup, event handlers, script URLs, breakouts).
 *
 * @example
 * ```ts
 * const Bio = v.pipe(v.string(), noXss());
 * v.safeParse(Bio, 'I <3 you').success; // true
 * ```
 */
export function noXss(options: DetectOptions = {}, message?: v.ErrorMessage<GuardIssue>): GuardAction {
  return kindAction('no_xss', 'xss', noXss, options, message);
}

/**
 * Rejects command injection (separators with commands, substitution, Shellshock, server code).
 *
 * @example
 * ```ts
 * const Host = v.pipe(v.string(), noCommandInjection({ level: 'strict' }));
 * v.safeParse(Host, 'example.com; id').success; // false
 * ```
 */
export function noCommandInjection(
  options: DetectOptions = {},
  message?: v.ErrorMessage<GuardIssue>,
): GuardAction {
  return kindAction('no_command_injection', 'command', noCommandInjection, options, message);
}

/**
 * Rejects path traversal (`..` segments after decoding, NUL bytes, absolute paths by level).
 *
 * @example
 * ```ts
 * const FileName = v.pipe(v.string(), noPathTraversal({ level: 'strict' }));
 * v.safeParse(FileName, '..%2f..%2fetc%2fpasswd').success; // false
 * ```
 */
export function noPathTraversal(
  options: DetectOptions = {},
  message?: v.ErrorMessage<GuardIssue>,
): GuardAction {
  return kindAction('no_path_traversal', 'path', noPathTraversal, options, message);
}

/**
 * Free text made safe to store and display: length limits, no control characters or
 * bidirectional overrides, and none of the injection kinds at the chosen level.
 *
 * @example
 * ```ts
 * const Description = v.pipe(v.string(), safeText({ maxLength: 2000 }));
 * v.safeParse(Description, 'Toronto, ON, Canada - (YYZ)').success; // true
 * ```
 */
export function safeText(options: SafeTextOptions = {}, message?: v.ErrorMessage<GuardIssue>): GuardAction {
  const resolved = resolveSafeTextOptions(options);
  return guardAction(
    'safe_text',
    safeText,
    (value) => checkResolvedSafeText(value, resolved).issues[0],
    message,
  );
}

/**
 * Code that passes `analyzeCode()`: parses, names no host globals, no `eval`/`Function`, no
 * prototype tricks, no loops that cannot end. The issue's `received` is the first rule that fired.
 *
 * @example
 * ```ts
 * const Code = v.pipe(v.string(), codeSafety());
 * v.safeParse(Code, 'while (true) {}').success; // false
 * ```
 */
export function codeSafety(
  options: CodeSafetyOptions = {},
  message?: v.ErrorMessage<GuardIssue>,
): GuardAction {
  return guardAction(
    'safe_code',
    codeSafety,
    (value) => {
      const finding = analyzeCode(value, options).findings[0];
      return finding === undefined
        ? undefined
        : { rule: finding.rule, reason: `${finding.message} (line ${finding.line})` };
    },
    message,
  );
}

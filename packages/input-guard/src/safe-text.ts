/**
 * Text rules beside the injection detectors: length limits, control characters, bidirectional
 * overrides (the "Trojan Source" trick) and malformed Unicode.
 */
import { C } from './detect/chars';
import { decodeValue } from './detect/decode';
import { InputGuardError } from './errors';
import { resolveDetectOptions, resolveKinds, scanViews } from './scan';
import type { SafeTextIssue, SafeTextOptions, SafeTextResult } from './types';

/** Resolved `safeText` options. */
export interface ResolvedSafeTextOptions {
  readonly level: NonNullable<SafeTextOptions['level']>;
  readonly maxDecodeRounds: number;
  readonly kinds: NonNullable<SafeTextOptions['kinds']>;
  readonly minLength: number;
  readonly maxLength: number;
  readonly allowNewlines: boolean;
  readonly allowControlCharacters: boolean;
}

export const DEFAULT_MAX_TEXT_LENGTH = 10_000;

export function resolveSafeTextOptions(options: SafeTextOptions = {}): ResolvedSafeTextOptions {
  const { level, maxDecodeRounds } = resolveDetectOptions(options);
  const kinds = resolveKinds(options.kinds);
  const minLength = options.minLength ?? 0;
  const maxLength = options.maxLength ?? DEFAULT_MAX_TEXT_LENGTH;
  if (!Number.isInteger(minLength) || minLength < 0) {
    throw new InputGuardError('INVALID_OPTIONS', 'minLength must be a non-negative integer', {
      details: { option: 'minLength' },
    });
  }
  if (!Number.isInteger(maxLength) || maxLength < minLength) {
    throw new InputGuardError('INVALID_OPTIONS', 'maxLength must be an integer no smaller than minLength', {
      details: { option: 'maxLength' },
    });
  }
  return {
    level,
    maxDecodeRounds,
    kinds,
    minLength,
    maxLength,
    allowNewlines: options.allowNewlines ?? true,
    allowControlCharacters: options.allowControlCharacters ?? false,
  };
}

function characterIssue(value: string, options: ResolvedSafeTextOptions): SafeTextIssue | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c <= 0xdbff && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (pair) {
        i++;
        continue;
      }
      return {
        rule: 'text.invalid-unicode',
        reason: 'The text contains an unpaired surrogate',
        span: { start: i, end: i + 1 },
      };
    }
    if (c === 9) continue;
    if (c === 10 || c === 13) {
      if (options.allowNewlines) continue;
      return {
        rule: 'text.newline',
        reason: 'The text contains a line break',
        span: { start: i, end: i + 1 },
      };
    }
    if (options.allowControlCharacters) continue;
    if (c < 32 || (c >= 0x7f && c <= 0x9f)) {
      return {
        rule: 'text.control-character',
        reason: 'The text contains a control character',
        span: { start: i, end: i + 1 },
      };
    }
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
      return {
        rule: 'text.bidi-override',
        reason: 'The text contains a bidirectional override character',
        span: { start: i, end: i + 1 },
      };
    }
  }
  return undefined;
}

/** `checkSafeText` with options already resolved (the actions resolve once, at creation). */
export function checkResolvedSafeText(value: string, options: ResolvedSafeTextOptions): SafeTextResult {
  const issues: SafeTextIssue[] = [];
  if (value.length > options.maxLength) {
    // Too long to be worth scanning: the limit is also what bounds the cost of detection.
    issues.push({ rule: 'text.too-long', reason: `The text is longer than ${options.maxLength} characters` });
    return { ok: false, issues };
  }
  if (value.length < options.minLength) {
    issues.push({
      rule: 'text.too-short',
      reason: `The text is shorter than ${options.minLength} characters`,
    });
  }
  const { views, rawMask } = decodeValue(value, options.maxDecodeRounds);
  // Only these characters can break the character rules; most text has none of them.
  if ((rawMask & (C.CONTROL | C.C1 | C.BIDI | C.SURROGATE | C.NEWLINE)) !== 0) {
    const character = characterIssue(value, options);
    if (character !== undefined) issues.push(character);
  }
  for (const threat of scanViews(views, options.kinds, options.level)) {
    issues.push({ kind: threat.kind, rule: threat.rule, reason: threat.reason, span: threat.span });
  }
  return { ok: issues.length === 0, issues };
}

/**
 * Checks free text: length, control characters, bidirectional overrides, malformed Unicode and
 * every injection detector, at the given level.
 *
 * @example
 * ```ts
 * checkSafeText("O'Brien").ok; // true
 * checkSafeText('<script>alert(1)</script>').issues[0]?.rule; // 'xss.script-element'
 * ```
 */
export function checkSafeText(value: string, options?: SafeTextOptions): SafeTextResult {
  return checkResolvedSafeText(value, options === undefined ? defaults() : resolveSafeTextOptions(options));
}

let resolvedDefaults: ResolvedSafeTextOptions | undefined;
function defaults(): ResolvedSafeTextOptions {
  resolvedDefaults ??= resolveSafeTextOptions({});
  return resolvedDefaults;
}

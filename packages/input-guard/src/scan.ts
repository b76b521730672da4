/**
 * The detectors as pure functions: decode the value (bounded rounds), then run each detector on
 * every distinct form until one reports.
 */
import { decodeViews, type TextView } from './detect/decode';
import { findPathTraversal } from './detect/path';
import { findCommandInjection } from './detect/shell';
import { findSqlInjection } from './detect/sql';
import { findXss } from './detect/xss';
import { InputGuardError } from './errors';
import {
  type DetectOptions,
  GUARD_LEVELS,
  type GuardLevel,
  type ScanOptions,
  THREAT_KINDS,
  type Threat,
  type ThreatKind,
} from './types';

type Finder = (
  text: string,
  level: GuardLevel,
  mask: number,
) => { rule: string; reason: string; start: number; end: number } | undefined;

/** A switch rather than a record lookup: this runs four times per value. */
function finderOf(kind: ThreatKind): Finder {
  switch (kind) {
    case 'sqli':
      return findSqlInjection;
    case 'xss':
      return findXss;
    case 'command':
      return findCommandInjection;
    default:
      return findPathTraversal;
  }
}

export const DEFAULT_DECODE_ROUNDS = 3;

/** Validates and fills detector options; throws INVALID_OPTIONS for anything unknown. */
export function resolveDetectOptions(options: DetectOptions = {}): {
  level: GuardLevel;
  maxDecodeRounds: number;
} {
  const level = options.level ?? 'low';
  if (!GUARD_LEVELS.includes(level)) {
    throw new InputGuardError('INVALID_OPTIONS', `level must be one of ${GUARD_LEVELS.join(', ')}`, {
      details: { option: 'level' },
    });
  }
  const maxDecodeRounds = options.maxDecodeRounds ?? DEFAULT_DECODE_ROUNDS;
  if (!Number.isInteger(maxDecodeRounds) || maxDecodeRounds < 0 || maxDecodeRounds > 10) {
    throw new InputGuardError('INVALID_OPTIONS', 'maxDecodeRounds must be an integer from 0 to 10', {
      details: { option: 'maxDecodeRounds' },
    });
  }
  return { level, maxDecodeRounds };
}

export function resolveKinds(kinds: readonly ThreatKind[] | undefined): readonly ThreatKind[] {
  if (kinds === undefined) return THREAT_KINDS;
  for (const kind of kinds) {
    if (!THREAT_KINDS.includes(kind)) {
      throw new InputGuardError('INVALID_OPTIONS', `kinds may only contain ${THREAT_KINDS.join(', ')}`, {
        details: { option: 'kinds' },
      });
    }
  }
  return kinds;
}

function findIn(views: readonly TextView[], kind: ThreatKind, level: GuardLevel): Threat | undefined {
  const finder = finderOf(kind);
  for (let i = 0; i < views.length; i++) {
    const view = views[i]!;
    const found = finder(view.text, level, view.mask);
    if (found !== undefined) {
      return {
        kind,
        rule: found.rule,
        reason: found.reason,
        span: { start: found.start, end: found.end },
        decoded: view.decoded,
      };
    }
  }
  return undefined;
}

/** Scans already-decoded views; shared by `scan()`, the actions and the CLI. */
export function scanViews(
  views: readonly TextView[],
  kinds: readonly ThreatKind[],
  level: GuardLevel,
): Threat[] {
  const threats: Threat[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const threat = findIn(views, kinds[i]!, level);
    if (threat !== undefined) threats.push(threat);
  }
  return threats;
}

/**
 * Runs the detectors on a value and returns one threat per kind found (empty when clean).
 *
 * @example
 * ```ts
 * scan("1' UNION SELECT password FROM users--").map((t) => t.rule); // ['sqli.union']
 * scan("O'Brien"); // []
 * ```
 */
export function scan(value: string, options: ScanOptions = {}): Threat[] {
  const { level, maxDecodeRounds } = resolveDetectOptions(options);
  const kinds = resolveKinds(options.kinds);
  return scanViews(decodeViews(value, maxDecodeRounds), kinds, level);
}

function detectOne(kind: ThreatKind, value: string, options: DetectOptions): Threat | undefined {
  const { level, maxDecodeRounds } = resolveDetectOptions(options);
  return findIn(decodeViews(value, maxDecodeRounds), kind, level);
}

/**
 * SQL injection: does the value leave a string or numeric context and form SQL?
 *
 * @example
 * ```ts
 * detectSqlInjection("x' OR '1'='1")?.rule; // 'sqli.tautology'
 * ```
 */
export function detectSqlInjection(value: string, options: DetectOptions = {}): Threat | undefined {
  return detectOne('sqli', value, options);
}

/**
 * Cross-site scripting: script-capable markup, event handlers, script URLs, attribute or
 * JavaScript string breakouts.
 *
 * @example
 * ```ts
 * detectXss('<svg/onload=alert(1)>')?.rule; // 'xss.event-handler'
 * ```
 */
export function detectXss(value: string, options: DetectOptions = {}): Threat | undefined {
  return detectOne('xss', value, options);
}

/**
 * Command injection: separators followed by commands, substitution, Shellshock, server-side code.
 *
 * @example
 * ```ts
 * detectCommandInjection('127.0.0.1; cat /etc/passwd')?.rule; // 'command.separator'
 * ```
 */
export function detectCommandInjection(value: string, options: DetectOptions = {}): Threat | undefined {
  return detectOne('command', value, options);
}

/**
 * Path traversal: `..` segments after decoding (double-encoded, overlong UTF-8, backslashes),
 * NUL bytes and absolute paths.
 *
 * @example
 * ```ts
 * detectPathTraversal('..%252f..%252fetc%252fpasswd')?.rule; // 'path.traversal'
 * ```
 */
export function detectPathTraversal(value: string, options: DetectOptions = {}): Threat | undefined {
  return detectOne('path', value, options);
}

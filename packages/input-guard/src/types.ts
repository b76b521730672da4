/** Public types and options of @plat/input-guard. */

/** The injection families the detectors recognise. */
export type ThreatKind = 'sqli' | 'xss' | 'command' | 'path';

/** Every threat kind, in reporting order. */
export const THREAT_KINDS: readonly ThreatKind[] = ['sqli', 'xss', 'command', 'path'];

/**
 * How eagerly the detectors report, in the spirit of the OWASP Core Rule Set's paranoia levels.
 * - `low`: free text (names, prose, comments). Only structures that are attacks in any context.
 * - `balanced`: general fields. Also reports probes and weaker structures.
 * - `strict`: identifiers and short fields. Any syntax of the target language is reported.
 */
export type GuardLevel = 'low' | 'balanced' | 'strict';

/** Every level, from the fewest false alarms to the most detection. */
export const GUARD_LEVELS: readonly GuardLevel[] = ['low', 'balanced', 'strict'];

/** Offsets of the offending part of a value (UTF-16 code units, end exclusive). */
export interface ThreatSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * One finding. It never contains the input itself: `span` points into the value that was
 * analysed (the raw value, or its decoded form when `decoded` is true).
 */
export interface Threat {
  readonly kind: ThreatKind;
  /** A stable, dotted reason code, for example `sqli.tautology` or `xss.event-handler`. */
  readonly rule: string;
  /** A short sentence for people; never quotes the input. */
  readonly reason: string;
  readonly span: ThreatSpan;
  /** True when the threat was found only after decoding (percent, entities, escapes, UTF-7). */
  readonly decoded: boolean;
}

/** Options shared by every detector. */
export interface DetectOptions {
  /**
   * Sensitivity.
   * @default 'low'
   */
  level?: GuardLevel;
  /**
   * How many rounds of decoding (percent, HTML entities, backslash escapes, UTF-7) are applied
   * before detection; each round runs only when the previous one changed the value.
   * @default 3
   */
  maxDecodeRounds?: number;
}

/** Options of `scan()`: which detectors to run. */
export interface ScanOptions extends DetectOptions {
  /**
   * Which kinds to look for.
   * @default ['sqli', 'xss', 'command', 'path']
   */
  kinds?: readonly ThreatKind[];
}

/** Options of `safeText()` / `checkSafeText()`. */
export interface SafeTextOptions extends ScanOptions {
  /**
   * Minimum length in characters (after NFKC normalisation).
   * @default 0
   */
  minLength?: number;
  /**
   * Maximum length in characters (after NFKC normalisation). Also bounds detection cost.
   * @default 10000
   */
  maxLength?: number;
  /**
   * Allow line breaks (`\n`, `\r\n`). Tabs are always allowed.
   * @default true
   */
  allowNewlines?: boolean;
  /**
   * Allow other control characters (C0, C1, DEL) and Unicode bidirectional overrides.
   * @default false
   */
  allowControlCharacters?: boolean;
}

/** The outcome of `checkSafeText()`. */
export interface SafeTextResult {
  readonly ok: boolean;
  /** Detector findings and text-rule violations (rule `text.*`, kind undefined). */
  readonly issues: readonly SafeTextIssue[];
}

/** A reason `checkSafeText()` refused a value. */
export interface SafeTextIssue {
  /** Present for injection findings; absent for length and character rules. */
  readonly kind?: ThreatKind;
  readonly rule: string;
  readonly reason: string;
  readonly span?: ThreatSpan;
}

/** Options of `analyzeCode()`. */
export interface CodeSafetyOptions {
  /**
   * Longest code accepted, in characters.
   * @default 50000
   */
  maxLength?: number;
  /**
   * Most syntax nodes analysed; larger programs are refused.
   * @default 20000
   */
  maxNodes?: number;
  /**
   * Globals from the forbidden list that your runtime provides on purpose (for example `fetch`).
   * @default []
   */
  allowGlobals?: readonly string[];
}

/** One reason code was refused. */
export interface CodeFinding {
  /** Rule code, for example `code.forbidden-global` or `code.infinite-loop`. */
  readonly rule: string;
  readonly message: string;
  /** 1-based line. */
  readonly line: number;
  /** 0-based column. */
  readonly column: number;
}

/** The outcome of `analyzeCode()`. */
export interface CodeSafetyResult {
  readonly ok: boolean;
  readonly findings: readonly CodeFinding[];
}

/** Limits of `runSandboxed()`. */
export interface SandboxOptions {
  /**
   * Wall-clock budget for the run; the interpreter is interrupted when it is spent.
   * @default 1000
   */
  timeoutMs?: number;
  /**
   * Heap limit of the sandbox's JavaScript runtime.
   * @default 33554432 (32 MiB)
   */
  memoryBytes?: number;
  /**
   * Stack limit of the sandbox's JavaScript runtime.
   * @default 524288 (512 KiB)
   */
  stackBytes?: number;
}

/** What a sandboxed run returned. */
export interface SandboxResult<T = unknown> {
  /** The code's return value, passed out as JSON. */
  readonly value: T;
  /** Wall-clock duration of the run. */
  readonly durationMs: number;
}

/** An uploaded file as the application received it. */
export interface UploadedFile {
  /** The file's bytes. */
  readonly data: Uint8Array;
  /** The name the client sent (may contain paths and tricks; it is sanitised). */
  readonly filename: string;
  /** The MIME type the client declared (`Content-Type` of the part). */
  readonly mimeType: string;
}

/** Options of `validateUpload()`. */
export interface UploadOptions {
  /**
   * Largest accepted file, in bytes.
   * @default 10485760 (10 MiB)
   */
  maxBytes?: number;
  /**
   * MIME types accepted, as sniffed from the content.
   * @default ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf']
   */
  allowedTypes?: readonly string[];
  /**
   * Accept active content (HTML, SVG, XML, JavaScript) when it is also in `allowedTypes`. Active
   * content runs script when served from your origin; leave this off unless you serve uploads
   * from a separate, cookie-less origin with `Content-Disposition: attachment`.
   * @default false
   */
  allowActiveContent?: boolean;
  /**
   * Longest sanitised file name, in UTF-8 bytes.
   * @default 200
   */
  maxFilenameBytes?: number;
}

/** A file that passed `validateUpload()`. */
export interface ValidatedUpload {
  /** The MIME type established from the content. */
  readonly mimeType: string;
  /** The canonical extension of that type, without a dot. */
  readonly extension: string;
  /** A safe file name: no path, no control characters, one extension matching the content. */
  readonly filename: string;
  readonly size: number;
}

export {
  type GuardAction,
  type GuardIssue,
  type GuardIssueType,
  noCommandInjection,
  noPathTraversal,
  noSqlInjection,
  noXss,
  safeText,
} from './actions';
export { InputGuardError, InputGuardErrorCode } from './errors';
export { checkSafeText } from './safe-text';
export { detectCommandInjection, detectPathTraversal, detectSqlInjection, detectXss, scan } from './scan';
export {
  type DetectOptions,
  GUARD_LEVELS,
  type GuardLevel,
  type SafeTextIssue,
  type SafeTextOptions,
  type SafeTextResult,
  type ScanOptions,
  THREAT_KINDS,
  type Threat,
  type ThreatKind,
  type ThreatSpan,
} from './types';

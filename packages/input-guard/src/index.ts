export {
  codeSafety,
  type GuardAction,
  type GuardIssue,
  type GuardIssueType,
  noCommandInjection,
  noPathTraversal,
  noSqlInjection,
  noXss,
  safeText,
} from './actions';
export { analyzeCode, assertSafeCode } from './code-safety';
export { InputGuardError, InputGuardErrorCode } from './errors';
export { inputGuardErrorStatus } from './http-status';
export { checkSafeText } from './safe-text';
export { closeSandbox, runSandboxed } from './sandbox';
export { detectCommandInjection, detectPathTraversal, detectSqlInjection, detectXss, scan } from './scan';
export {
  type CodeFinding,
  type CodeSafetyOptions,
  type CodeSafetyResult,
  type DetectOptions,
  GUARD_LEVELS,
  type GuardLevel,
  type SafeTextIssue,
  type SafeTextOptions,
  type SafeTextResult,
  type SandboxOptions,
  type SandboxResult,
  type ScanOptions,
  THREAT_KINDS,
  type Threat,
  type ThreatKind,
  type ThreatSpan,
  type UploadedFile,
  type UploadOptions,
  type ValidatedUpload,
} from './types';
export { sanitizeFilename, validateUpload } from './upload';
export {
  type AnySchema,
  getValidated,
  type RequestSchemas,
  VALIDATED,
  type ValidatedRequest,
  type ValidateOptions,
  type ValidationIssue,
  validateRequest,
} from './validate';
export {
  type SecureWorkflow,
  SecureWorkflowInput,
  type SecureWorkflowNode,
  WORKFLOW_NODE_TYPES,
  WorkflowNode,
  type WorkflowNodeType,
} from './workflow';

export { explainPolicy, formatExplanation } from './explain.js';
export type { PolicyExplanation } from './explain.js';
export { lintPath, loadPolicyFile, policyWarnings } from './lint.js';
export type {
  LintErrorCode,
  LintFinding,
  LintIoError,
  LintReport,
  LintWarningCode,
  StatPath,
} from './lint.js';
export { parsePolicy } from './parse.js';
export * from './limits.js';
export * from './types.js';
export { GATE_SAFE_CHARS } from './values.js';

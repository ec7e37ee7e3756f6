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
export { installShippedPolicies } from './install-shipped.js';
export type { PolicyInstallError, ShippedPolicySource } from './install-shipped.js';
export { parsePolicy } from './parse.js';
export * from './limits.js';
export * from './types.js';
export { GATE_SAFE_CHARS } from './values.js';
export {
  commandPathProblems,
  DEFAULT_GATE_DIR,
  expectedGatePath,
  isCanonicalAbsolutePath,
} from './command-paths.js';
export type { CommandPathCode, CommandPathProblem } from './command-paths.js';
export { isValidGateDir } from './command-paths.js';
export { FORBIDDEN_PROGRAMS, isForbiddenProgram } from './forbidden-programs.js';
export type { ParseOptions } from './parse.js';

import type { ErrorCategory } from '../common/error-category.js';
import { assertNever } from '../common/result.js';
import type { LintErrorCode, LintIoError } from './policy/lint.js';
import type { PolicyInstallError } from './policy/install-shipped.js';
import type { RenderErrorCode } from './render-key-line.js';

/**
 * Categories of the psm module's error codes (exit code in the CLI, HTTP status in the daemon),
 * kept beside the unions in policy/types.ts, policy/lint.ts and render-key-line.ts.
 */

/** A policy file psm will not use is `input`; one that cannot be found or read is `unreadable`. */
export function policyErrorCategory(
  code: LintErrorCode | LintIoError['code'] | PolicyInstallError['code'],
): ErrorCategory {
  switch (code) {
    case 'POLICY_TOO_LARGE':
    case 'POLICY_NOT_UTF8':
    case 'POLICY_YAML':
    case 'POLICY_YAML_FEATURE':
    case 'POLICY_NOT_MAP':
    case 'POLICY_UNKNOWN_FIELD':
    case 'POLICY_NEVER_GRANTED':
    case 'POLICY_MISSING_FIELD':
    case 'POLICY_WRONG_TYPE':
    case 'POLICY_BAD_VALUE':
    case 'POLICY_TOO_MANY':
    case 'POLICY_DUPLICATE':
    case 'POLICY_WILDCARD_NOT_ALLOWED':
    case 'POLICY_LISTEN_WITHOUT_OPEN':
    case 'POLICY_DUPLICATE_NAME':
    case 'POLICY_GATE_CONFLICT':
    case 'LINT_TOO_MANY_FILES':
    case 'POLICY_PATH_NOT_CANONICAL':
    case 'POLICY_GATE_OUTSIDE_DIR':
    case 'POLICY_FORBIDDEN_PROGRAM':
    case 'POLICY_INVISIBLE_CHARACTER':
      return 'input';
    case 'POLICY_UNREADABLE':
    case 'LINT_NOT_FOUND':
    case 'LINT_UNREADABLE':
    case 'LINT_NO_POLICIES':
      return 'unreadable';
    case 'POLICY_INSTALL_FAILED':
      return 'outside';
    default:
      return assertNever(code);
  }
}

/** The context ids and time come from the caller; the rest is psm refusing to write the line. */
export function renderErrorCategory(code: RenderErrorCode): ErrorCategory {
  switch (code) {
    case 'RENDER_BAD_APP_ID':
    case 'RENDER_BAD_WORKER':
    case 'RENDER_BAD_TIME':
      return 'usage';
    case 'RENDER_CERTIFICATE_KEY':
    case 'RENDER_UNREPRESENTABLE':
    case 'RENDER_VERIFY_MISMATCH':
    case 'RENDER_UNSAFE_COMMAND':
      return 'refused';
    default:
      return assertNever(code);
  }
}

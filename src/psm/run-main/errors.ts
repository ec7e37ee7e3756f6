import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, err, type CodedError, type Err } from '../../common/result.js';

/**
 * Every way `psm run-main` (the pseudo-main: an application's main run in its worker through the
 * admin key's gate) refuses or fails before the object's own exit code is known.
 */
export type RunMainErrorCode =
  /** OBJECT is not one plain file name (empty, too long, a path, "." or "..", whitespace, control characters). */
  | 'RUN_BAD_OBJECT'
  /** An argument the gate could not pass on as one word (empty, whitespace), or too many or too long. */
  | 'RUN_BAD_ARGUMENT'
  /** The worker has no pinned host key or no SSH endpoint: it was not prepared by psm (untrusted workers). */
  | 'RUN_NOT_PREPARED'
  /** psm's admin private key cannot be read (run psm init). */
  | 'RUN_ADMIN_KEY_UNREADABLE'
  /** The worker presented a host key that is not pinned for it: psm does not log in. */
  | 'RUN_HOST_KEY_MISMATCH'
  /** The worker's sshd refused psm's admin key. */
  | 'RUN_LOGIN_REFUSED'
  /** The worker's gate refused the command (the object or an argument is not allowed by the policy). */
  | 'RUN_GATE_REFUSED'
  /** The SSH connection failed, or closed before the object's exit status came. */
  | 'RUN_SSH_FAILED'
  /** The object did not end within --timeout. */
  | 'RUN_TIMEOUT'
  /** Interrupted (Ctrl-C, SIGTERM): the session was closed, which hangs up the object. */
  | 'RUN_ABORTED';

export type RunMainError = CodedError<RunMainErrorCode>;

export function runMainFail(code: RunMainErrorCode, message: string): Err<RunMainError> {
  return err({ code, message });
}

export function runMainErrorCategory(code: RunMainErrorCode): ErrorCategory {
  switch (code) {
    case 'RUN_BAD_OBJECT':
    case 'RUN_BAD_ARGUMENT':
      return 'usage';
    case 'RUN_ADMIN_KEY_UNREADABLE':
      return 'unreadable';
    case 'RUN_NOT_PREPARED':
    case 'RUN_HOST_KEY_MISMATCH':
    case 'RUN_GATE_REFUSED':
      return 'refused';
    case 'RUN_LOGIN_REFUSED':
      return 'auth';
    case 'RUN_SSH_FAILED':
    case 'RUN_TIMEOUT':
    case 'RUN_ABORTED':
      return 'outside';
    default:
      return assertNever(code);
  }
}

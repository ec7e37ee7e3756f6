import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, err, type CodedError, type Err } from '../../common/result.js';

/** How a rotation can stop. Every one leaves a state a rerun resumes from, with no worker locked out. */
export type RotationErrorCode =
  /** Another psm rotates keys now. */
  | 'ROTATE_LOCKED'
  /** The rotation journal is damaged or from another psm: psm refuses to guess where it stopped. */
  | 'ROTATE_JOURNAL_INVALID'
  /** The journal, the admin key files or the records could not be read or written. */
  | 'ROTATE_IO'
  /** Some workers were off or unreachable: reported, left as they were, retried by the next run. */
  | 'ROTATE_INCOMPLETE'
  /** A worker accepted a key psm just removed, or refused the one it just added: stopped, nothing switched. */
  | 'ROTATE_PROOF_FAILED'
  /** --workers named a worker psm holds no keys for. */
  | 'ROTATE_UNKNOWN_WORKER'
  /** Nothing to rotate (no prepared worker holds psm's admin key). */
  | 'ROTATE_NOTHING'
  /** The act could not be recorded in the audit log. */
  | 'ROTATE_NOT_RECORDED';

export type RotationError = CodedError<RotationErrorCode>;

export function rotationError(code: RotationErrorCode, message: string): Err<RotationError> {
  return err({ code, message });
}

export function rotationErrorCategory(code: RotationErrorCode): ErrorCategory {
  switch (code) {
    case 'ROTATE_LOCKED':
    case 'ROTATE_PROOF_FAILED':
      return 'refused';
    case 'ROTATE_JOURNAL_INVALID':
      return 'input';
    case 'ROTATE_UNKNOWN_WORKER':
    case 'ROTATE_NOTHING':
      return 'unreadable';
    case 'ROTATE_IO':
    case 'ROTATE_INCOMPLETE':
    case 'ROTATE_NOT_RECORDED':
      return 'outside';
    default:
      return assertNever(code);
  }
}

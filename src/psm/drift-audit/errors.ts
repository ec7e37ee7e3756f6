import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, type CodedError } from '../../common/result.js';

/** Failures of an audit run as a whole; what is found on a worker is a finding, not an error. */
export type DriftAuditErrorCode =
  /** The hypervisor could not list the workers: nothing was audited. */
  | 'DRIFT_LIST_FAILED'
  /** The run could not be recorded in the audit log. */
  | 'DRIFT_NOT_RECORDED';

export type DriftAuditError = CodedError<DriftAuditErrorCode>;

export function driftAuditErrorCategory(code: DriftAuditErrorCode): ErrorCategory {
  switch (code) {
    case 'DRIFT_LIST_FAILED':
    case 'DRIFT_NOT_RECORDED':
      return 'outside';
    default:
      return assertNever(code);
  }
}

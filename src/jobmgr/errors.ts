import type { ErrorCategory } from '../common/error-category.js';
import { assertNever, err, type CodedError, type Err } from '../common/result.js';

/**
 * Every way the job manager (pool, assignment, state) refuses or fails. The daemon turns the
 * category into an HTTP status (httpStatusForCategory), the CLI into an exit code.
 */
export type JobMgrErrorCode =
  /** An application ID that breaks APP_ID_PATTERN or its length limit. */
  | 'INVALID_APP_ID'
  /** A job ID that breaks JOB_ID_PATTERN or its length limit. */
  | 'INVALID_JOB_ID'
  /** A key that is not one OpenSSH public key line, or has a role psm does not know. */
  | 'INVALID_KEY'
  /** More keys, jobs or applications than the named limits allow. */
  | 'TOO_MANY'
  /** No prepared worker became free before the request's deadline, and the pool is at max_vms. */
  | 'POOL_EXHAUSTED'
  /** The pool is draining or the daemon is shutting down: no new assignments. */
  | 'POOL_CLOSED'
  /** The application is ending: its worker is being reverted (reserve again once it is gone). */
  | 'APP_ENDING'
  /** No application of that ID holds a worker here. */
  | 'APP_NOT_FOUND'
  /** The application has no job of that ID. */
  | 'JOB_NOT_FOUND'
  /** No worker of that name is in the pool. */
  | 'WORKER_NOT_FOUND'
  /** A pool setting (virtual.conf [pool] or a daemon flag) is out of range. */
  | 'INVALID_SETTING'
  /** The state database cannot be opened, read or written. */
  | 'STATE_IO'
  /** The state database holds something this psm did not write (a newer schema, a broken row). */
  | 'STATE_INVALID'
  /** Cloning, booting, preparing, granting, revoking, reverting or destroying a worker failed. */
  | 'LIFECYCLE_FAILED';

export type JobMgrError = CodedError<JobMgrErrorCode>;

export function jobMgrError(code: JobMgrErrorCode, message: string, file?: string): JobMgrError {
  return file === undefined ? { code, message } : { code, message, file };
}

export function jobFail(code: JobMgrErrorCode, message: string, file?: string): Err<JobMgrError> {
  return err(jobMgrError(code, message, file));
}

export function jobMgrErrorCategory(code: JobMgrErrorCode): ErrorCategory {
  switch (code) {
    case 'INVALID_APP_ID':
    case 'INVALID_JOB_ID':
    case 'INVALID_SETTING':
      return 'usage';
    case 'INVALID_KEY':
    case 'TOO_MANY':
    case 'STATE_INVALID':
      return 'input';
    case 'APP_NOT_FOUND':
    case 'JOB_NOT_FOUND':
    case 'WORKER_NOT_FOUND':
    case 'STATE_IO':
      return 'unreadable';
    case 'POOL_EXHAUSTED':
    case 'POOL_CLOSED':
    case 'APP_ENDING':
      return 'refused';
    case 'LIFECYCLE_FAILED':
      return 'outside';
    default:
      return assertNever(code);
  }
}

const JOB_MGR_CODES: Record<JobMgrErrorCode, true> = {
  INVALID_APP_ID: true,
  INVALID_JOB_ID: true,
  INVALID_KEY: true,
  TOO_MANY: true,
  POOL_EXHAUSTED: true,
  POOL_CLOSED: true,
  APP_ENDING: true,
  APP_NOT_FOUND: true,
  JOB_NOT_FOUND: true,
  WORKER_NOT_FOUND: true,
  INVALID_SETTING: true,
  STATE_IO: true,
  STATE_INVALID: true,
  LIFECYCLE_FAILED: true,
};

export function isJobMgrErrorCode(code: string): code is JobMgrErrorCode {
  return Object.hasOwn(JOB_MGR_CODES, code);
}

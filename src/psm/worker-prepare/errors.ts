import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, type CodedError } from '../../common/result.js';
import { guestOpsErrorCategory, type GuestOpsError } from '../../guest-ops/errors.js';
import { hostKeyErrorCategory, type HostKeyError } from '../host-keys/errors.js';

/** What can go wrong preparing a worker beyond the guest operation and pin store codes it passes on. */
export type WorkerPrepareErrorCode =
  /** The input cannot be used: no key type, a duplicate, or two policies with one gate path. */
  | 'PREPARE_BAD_INPUT'
  /** sshd in the guest refused psm's config (`sshd -T`): nothing was switched, the old sshd runs. */
  | 'SSHD_CONFIG_REJECTED'
  /** sshd accepts the config but does not apply a setting psm requires (a site line overrode it). */
  | 'SSHD_CONFIG_INEFFECTIVE'
  /** The restarted sshd did not present psm's keys in time; the earlier config was put back. */
  | 'SSHD_RESTART_FAILED'
  /** A guest answer psm could not use (pid file, file list, program output): nothing trusted. */
  | 'GUEST_ANSWER_INVALID'
  /** The worker record could not be read or written. */
  | 'WORKER_RECORD_IO'
  /** The worker record is not one psm wrote (unknown keys, wrong types, another worker's). */
  | 'WORKER_RECORD_INVALID'
  /** The worker has no record: it was never prepared, or preparing it did not finish. */
  | 'NOT_PREPARED';

export type WorkerPrepareError = CodedError<WorkerPrepareErrorCode>;

export function workerPrepareErrorCategory(code: WorkerPrepareErrorCode): ErrorCategory {
  switch (code) {
    case 'PREPARE_BAD_INPUT':
      return 'usage';
    case 'WORKER_RECORD_INVALID':
      return 'input';
    case 'NOT_PREPARED':
      return 'unreadable';
    case 'SSHD_CONFIG_REJECTED':
    case 'SSHD_CONFIG_INEFFECTIVE':
      return 'refused';
    case 'SSHD_RESTART_FAILED':
    case 'GUEST_ANSWER_INVALID':
    case 'WORKER_RECORD_IO':
      return 'outside';
    default:
      return assertNever(code);
  }
}

/**
 * A failure of prepare: its own codes, or the code of the module it came from (guest operations,
 * the pin store), with the step it happened in. `module` says which union `code` belongs to.
 */
export type PrepareFailure = (
  | ({ readonly module: 'worker-prepare' } & WorkerPrepareError)
  | ({ readonly module: 'host-keys' } & HostKeyError)
  | ({ readonly module: 'guest-ops' } & GuestOpsError)
) & { readonly step?: string };

export function prepareFailureCategory(failure: PrepareFailure): ErrorCategory {
  switch (failure.module) {
    case 'worker-prepare':
      return workerPrepareErrorCategory(failure.code);
    case 'host-keys':
      return hostKeyErrorCategory(failure.code);
    case 'guest-ops':
      return guestOpsErrorCategory(failure.code);
    default:
      return assertNever(failure);
  }
}

export function prepareError(code: WorkerPrepareErrorCode, message: string): PrepareFailure {
  return { module: 'worker-prepare', code, message };
}

export function fromHostKeys(error: HostKeyError): PrepareFailure {
  return { module: 'host-keys', ...error };
}

export function fromGuestOps(error: GuestOpsError, what: string): PrepareFailure {
  return { module: 'guest-ops', ...error, message: `${what}: ${error.message}` };
}

import type { ErrorCategory } from '../common/error-category.js';
import { assertNever, err, type CodedError, type Err } from '../common/result.js';

/**
 * Every way a guest operation can fail, for every driver. A vSphere driver maps its faults onto
 * the same codes, so the worker pool and the CLI never branch on the hypervisor.
 */
export type GuestOpsErrorCode =
  /** A worker or snapshot name, a guest path or an argument psm refuses before doing anything. */
  | 'INVALID_ARGUMENT'
  /** The template (image directory, manifest, base disk) cannot be used. */
  | 'TEMPLATE_INVALID'
  /** No worker of that name exists. */
  | 'WORKER_NOT_FOUND'
  /** A worker of that name already exists. */
  | 'WORKER_EXISTS'
  /** The worker's state directory is damaged or was not written by psm. */
  | 'WORKER_STATE_INVALID'
  /** Another process has the worker's hypervisor or agent connections (they serve one client). */
  | 'WORKER_BUSY'
  /** The operation needs a running worker and it is not running (or the other way round). */
  | 'WORKER_NOT_RUNNING'
  | 'WORKER_RUNNING'
  /** A host program (qemu-img, qemu-system-*) failed, or the hypervisor refused the request. */
  | 'HYPERVISOR_FAILED'
  /** The hypervisor's control channel (QMP, SOAP) sent something psm does not understand. */
  | 'HYPERVISOR_PROTOCOL'
  /** The hypervisor refused psm's login (wrong user name or password, or no such user). */
  | 'HYPERVISOR_AUTH'
  /** The hypervisor's TLS certificate does not match the pin in virtual.conf. */
  | 'HYPERVISOR_TLS'
  /** strict_role is on and the hypervisor session holds privileges beyond psm's role. */
  | 'ROLE_TOO_BROAD'
  /** The guest agent did not answer in time (hung, paused, or not started yet). */
  | 'AGENT_TIMEOUT'
  /** The guest agent's channel could not be opened or was closed under us. */
  | 'AGENT_UNAVAILABLE'
  /** The guest agent answered with an error (file not found, command refused, ...). */
  | 'AGENT_ERROR'
  /** The guest agent sent something psm does not understand or that breaks a limit. */
  | 'AGENT_PROTOCOL'
  /** A program run in the guest did not finish in time; it was killed. */
  | 'GUEST_PROGRAM_TIMEOUT'
  /** A helper program psm ran in the guest (mkdir, chmod, mv, ...) failed. */
  | 'GUEST_COMMAND_FAILED'
  /** The guest has no usable address yet. */
  | 'NO_ADDRESS'
  /** A file or output is larger than the limit psm allows. */
  | 'TOO_LARGE'
  /** Saving or restoring a snapshot failed. */
  | 'SNAPSHOT_FAILED'
  /** A host file psm needed to read or write could not be. */
  | 'HOST_IO'
  /** An operation did not finish within its timeout. */
  | 'TIMEOUT'
  /** The caller's AbortSignal fired. */
  | 'ABORTED';

export type GuestOpsError = CodedError<GuestOpsErrorCode>;

export function guestOpsError(code: GuestOpsErrorCode, message: string, file?: string): GuestOpsError {
  return file === undefined ? { code, message } : { code, message, file };
}

export function fail(code: GuestOpsErrorCode, message: string, file?: string): Err<GuestOpsError> {
  return err(guestOpsError(code, message, file));
}

/** A short reason from a Node error for a message (errno code, never a stack). */
export function reasonOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string') return message.slice(0, 200);
  }
  return String(error).slice(0, 200);
}

/** The category of each code (exit code in the CLI, HTTP status in the daemon). */
export function guestOpsErrorCategory(code: GuestOpsErrorCode): ErrorCategory {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return 'usage';
    case 'TEMPLATE_INVALID':
    case 'WORKER_STATE_INVALID':
    case 'TOO_LARGE':
      return 'input';
    case 'WORKER_NOT_FOUND':
    case 'HOST_IO':
      return 'unreadable';
    case 'WORKER_EXISTS':
    case 'WORKER_BUSY':
    case 'WORKER_RUNNING':
    case 'WORKER_NOT_RUNNING':
    case 'HYPERVISOR_TLS':
    case 'ROLE_TOO_BROAD':
      return 'refused';
    case 'HYPERVISOR_AUTH':
      return 'auth';
    case 'HYPERVISOR_FAILED':
    case 'HYPERVISOR_PROTOCOL':
    case 'AGENT_TIMEOUT':
    case 'AGENT_UNAVAILABLE':
    case 'AGENT_ERROR':
    case 'AGENT_PROTOCOL':
    case 'GUEST_PROGRAM_TIMEOUT':
    case 'GUEST_COMMAND_FAILED':
    case 'NO_ADDRESS':
    case 'SNAPSHOT_FAILED':
    case 'TIMEOUT':
    case 'ABORTED':
      return 'outside';
    default:
      return assertNever(code);
  }
}

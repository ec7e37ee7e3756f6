import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, err, type CodedError, type Err } from '../../common/result.js';

/** What can go wrong making, installing, pinning and verifying a worker's identity. */
export type HostKeyErrorCode =
  /** The worker name or address cannot be a known_hosts name (letters, digits, . - _ : % only). */
  | 'BAD_WORKER_NAME'
  /** psm's known_hosts could not be read or written (I/O); nothing was changed. */
  | 'PIN_STORE_IO'
  /** psm's known_hosts has lines psm cannot read, or is too large: psm refuses to rewrite it. */
  | 'PIN_STORE_INVALID'
  /** The worker has no pin: it was never prepared, or it was forgotten. */
  | 'NOT_PINNED'
  /** The worker's sshd presented a host key that is not its pin: refused, nothing trusted. */
  | 'HOST_KEY_MISMATCH'
  /** No SSH handshake with the worker's sshd (refused, timed out, or not SSH). */
  | 'SSH_UNREACHABLE'
  /** A guest answer larger than psm reads for it (a hostile or broken guest). */
  | 'GUEST_ANSWER_TOO_LARGE'
  /** A host key file read back from the guest that is not one OpenSSH public key line. */
  | 'GUEST_KEY_INVALID'
  /** The guest holds a different key than the one psm installed: nothing is pinned. */
  | 'GUEST_KEY_MISMATCH';

export type HostKeyError = CodedError<HostKeyErrorCode>;

export function hostKeyError(code: HostKeyErrorCode, message: string): Err<HostKeyError> {
  return err({ code, message });
}

/**
 * The category of each code (exit code in the CLI, HTTP status in the daemon). A worker that
 * presents another key than its pin is refused, never trusted; what a guest answers is an outside
 * system's answer, however hostile.
 */
export function hostKeyErrorCategory(code: HostKeyErrorCode): ErrorCategory {
  switch (code) {
    case 'BAD_WORKER_NAME':
      return 'usage';
    case 'PIN_STORE_INVALID':
      return 'input';
    case 'NOT_PINNED':
      return 'unreadable';
    case 'HOST_KEY_MISMATCH':
    case 'GUEST_KEY_MISMATCH':
      return 'refused';
    case 'PIN_STORE_IO':
    case 'SSH_UNREACHABLE':
    case 'GUEST_ANSWER_TOO_LARGE':
    case 'GUEST_KEY_INVALID':
      return 'outside';
    default:
      return assertNever(code);
  }
}

import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, err, type CodedError, type Err } from '../../common/result.js';

/** Every way a key exchange (grant, revoke, admin key, user key) can fail. Nothing half-done is reported as done. */
export type KeyExchangeErrorCode =
  /** An application id or worker name outside the accepted characters or length. */
  | 'KEYX_BAD_ID'
  /** A public key given by the caller that is not one plain OpenSSH public key (or a certificate). */
  | 'KEYX_BAD_KEY'
  /** More keys or applications than psm writes onto one worker. */
  | 'KEYX_TOO_MANY'
  /** The same key twice in one worker's file (sshd would use only the first line's options). */
  | 'KEYX_DUPLICATE_KEY'
  /** The worker has no admin key yet: psm writes application keys only beside an admin key. */
  | 'KEYX_NO_ADMIN_KEY'
  /** The admin policy's `from` does not let the admin in from where workers see it: writing it would lock psm out. */
  | 'KEYX_ADMIN_FROM_MISMATCH'
  /** A policy psm needs (admin, main-node, initiator) is missing, invalid, or has another role. */
  | 'KEYX_POLICY'
  /** A line could not be rendered under its policy. */
  | 'KEYX_RENDER'
  /** The worker's intended-keys record is damaged, too large, or for another worker. */
  | 'KEYX_RECORD_INVALID'
  /** The record could not be read or written (I/O), or its lock could not be taken. */
  | 'KEYX_RECORD_IO'
  | 'KEYX_LOCKED'
  /** A guest operation failed (write, read back, mkdir, ...). */
  | 'KEYX_GUEST'
  /** What was read back from the worker does not mean exactly the intended set. */
  | 'KEYX_VERIFY_FAILED'
  /** The worker was changed but the act could not be appended to the audit log. */
  | 'KEYX_NOT_RECORDED';

export type KeyExchangeError = CodedError<KeyExchangeErrorCode>;

export function keyxError(code: KeyExchangeErrorCode, message: string): Err<KeyExchangeError> {
  return err({ code, message });
}

/** Caller mistakes are usage/input; a worker that does not hold what psm wrote is refused (fail closed). */
export function keyExchangeErrorCategory(code: KeyExchangeErrorCode): ErrorCategory {
  switch (code) {
    case 'KEYX_BAD_ID':
      return 'usage';
    case 'KEYX_BAD_KEY':
    case 'KEYX_TOO_MANY':
    case 'KEYX_POLICY':
    case 'KEYX_RECORD_INVALID':
      return 'input';
    case 'KEYX_DUPLICATE_KEY':
    case 'KEYX_NO_ADMIN_KEY':
    case 'KEYX_ADMIN_FROM_MISMATCH':
    case 'KEYX_RENDER':
    case 'KEYX_LOCKED':
    case 'KEYX_VERIFY_FAILED':
      return 'refused';
    case 'KEYX_RECORD_IO':
    case 'KEYX_GUEST':
    case 'KEYX_NOT_RECORDED':
      return 'outside';
    default:
      return assertNever(code);
  }
}

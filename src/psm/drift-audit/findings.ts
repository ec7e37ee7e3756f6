import type { KeyFileFindingCode } from '../key-exchange/index.js';

/**
 * What `psm audit` can find on a worker, read out of band through guest operations and compared
 * with psm's intended state and the policies. Every finding makes the audit fail (exit 1).
 */
export type DriftFindingCode =
  | KeyFileFindingCode
  /** A host key file sshd uses whose key is not the one pinned for the worker in psm's known_hosts. */
  | 'HOST_KEY_NOT_PINNED'
  /** psm's sshd_config on the worker is missing or is not what psm renders for the worker's host keys. */
  | 'SSHD_CONFIG_CHANGED'
  /** A policy's gate on the worker is missing or is not the script psm generates from the policy. */
  | 'GATE_CHANGED'
  /** A file or directory psm owns on the worker has another mode or owner than psm gives it. */
  | 'MODE_OR_OWNER_WRONG'
  /** The worker's authorized_keys is missing although psm granted keys there. */
  | 'FILE_MISSING'
  /** psm holds no intended keys for the worker (never prepared, or the record is damaged). */
  | 'NO_INTENDED_STATE'
  /** The worker runs but its guest agent could not be read: nothing on it can be vouched for. */
  | 'WORKER_UNREACHABLE';

export interface DriftFinding {
  readonly code: DriftFindingCode;
  readonly message: string;
  /** The guest path the finding is about. */
  readonly path?: string;
  readonly line?: number;
  readonly fingerprint?: string;
}

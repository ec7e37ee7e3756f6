import type { SshKeyAlgorithm } from '../../authorized-keys/keys/index.js';
import type { KeyPolicy } from '../policy/types.js';
import type { GuestIdentityLayout } from './guest-layout.js';
import type { GuestOperationCount } from './counting-worker.js';
import type { PreparedGate, PreparedHostKey } from './worker-record.js';

/**
 * prepareWorker's steps, in order. Each is announced (onStep) before it starts, so a caller can
 * print progress and a test can stop the process at any one of them. Rerunning after a stop at
 * any step completes the prepare: every step either changes nothing the next run depends on or
 * is done again from scratch by it.
 */
export const PREPARE_STEPS = [
  /** The "prepared" record goes first: from here until `record`, the worker is not prepared. */
  'unrecord',
  /** Power on when off, wait for the guest agent, read where sshd is reached. */
  'start',
  /** List the identity files (host keys, machine-id, DHCP leases) and psm's sshd config. */
  'survey',
  /** Host keys made in process; the private halves exist only in memory. */
  'generate',
  /** Private keys root 0600, `.pub` root 0644, under this run's generation names. */
  'install-keys',
  /** Each `.pub` read back: it must be exactly the key psm made. */
  'read-back',
  /** psm's sshd_config under a temporary name, checked by the guest's sshd (`sshd -T`). */
  'check-config',
  /** Config renamed into place, listener restarted, psm's keys presented. */
  'switch-sshd',
  /** Each policy's gate at its path, root 0755. */
  'install-gates',
  /** Every other host key file, machine-id and DHCP lease removed (after the switch). */
  'reset-identity',
  /** A fresh DHCP lease and the guest's address. */
  'renew-address',
  /** psm's known_hosts: the worker's earlier pins replaced by the new keys. */
  'pin',
  /** A real SSH handshake against the pins just written. */
  'verify',
  /** The clean snapshot: every revert comes back to this identity. */
  'snapshot',
  /** The "prepared" record, written last. */
  'record',
] as const;

export type PrepareStep = (typeof PREPARE_STEPS)[number];

export interface PrepareStepEvent {
  readonly worker: string;
  readonly step: PrepareStep;
  /** 1-based position of the step in PREPARE_STEPS. */
  readonly index: number;
  readonly total: number;
}

export interface PrepareWorkerInput {
  /** The POP-C++ location: psm's known_hosts and worker records are kept under it. */
  readonly location: string;
  /** The policies whose gates the worker gets (each at its command.gate path). */
  readonly policies: readonly KeyPolicy[];
  /** Host key types, each once; default ['ed25519']. */
  readonly keyAlgorithms?: readonly SshKeyAlgorithm[];
  /** Write the known_hosts names hashed (as `ssh-keygen -H` does). Default false. */
  readonly hashKnownHosts?: boolean;
  /** Where things are in the guest; default the psm worker image's (WORKER_IMAGE_LAYOUT). */
  readonly layout?: GuestIdentityLayout;
  /**
   * Site lines appended after psm's sshd settings. sshd keeps the first value of a keyword, and
   * `sshd -T` must still show every setting psm requires, so these can add but never weaken.
   */
  readonly sshdConfigExtra?: string;
}

export interface PrepareOptions {
  readonly signal?: AbortSignal;
  /** Called before each step starts. */
  readonly onStep?: (event: PrepareStepEvent) => void;
  /** Timeout of each guest operation (default: the driver's). */
  readonly timeoutMs?: number;
}

export interface PrepareOutcome {
  readonly worker: string;
  /** Where psm reaches the worker's sshd (QEMU user networking: a host forward on 127.0.0.1). */
  readonly ssh: { readonly host: string; readonly port: number };
  readonly hostKeys: readonly PreparedHostKey[];
  /** psm's known_hosts (for ssh -o UserKnownHostsFile=... -o HostKeyAlias=WORKER). */
  readonly knownHosts: string;
  /** The worker record written last. */
  readonly record: string;
  readonly keyGeneration: string;
  readonly sshdConfigSha256: string;
  readonly gates: readonly PreparedGate[];
  /** The identity files removed from the guest. */
  readonly removedFiles: readonly string[];
  /** Each step's duration. */
  readonly steps: readonly { readonly step: PrepareStep; readonly ms: number }[];
  /** Each kind of guest operation with its count and total time. */
  readonly guestOperations: readonly GuestOperationCount[];
}

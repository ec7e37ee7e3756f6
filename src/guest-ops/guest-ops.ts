import type { Result } from '../common/result.js';
import type { GuestOpsError } from './errors.js';

/**
 * Guest operations: what psm does to a worker VM out of band, through the hypervisor, before
 * anything on the network can be trusted. It is what the 2010 roadmap used from VMware VIX
 * (PowerOn, WaitForToolsInGuest, ReadVariable "ip", CopyFileFromHostToGuest, RunProgramInGuest)
 * plus the lifecycle around it (linked clone, clean snapshot, revert, power off, destroy).
 *
 * Drivers: `qemu/` (QEMU + qemu-ga, the default) and `vsphere/` (the vSphere Web Services API:
 * linked clones, snapshots and VMware Tools guest operations); the contract suite in
 * test/contract/ is written against these interfaces only.
 *
 * Every method is async, takes `OpOptions` (timeout + AbortSignal) and returns a Result with a
 * coded error; nothing throws except on a bug in psm.
 */

export interface OpOptions {
  /** Upper bound for the whole operation; each method documents its default. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Where a worker comes from. Drivers accept the kinds they can boot and refuse the others. */
export type WorkerTemplate =
  /** Direct kernel boot with a per-clone copy-on-write data disk (the psm test/demo image). */
  | {
      readonly kind: 'kernel';
      readonly kernel: string;
      readonly initrd: string;
      readonly append: string;
      /** qcow2 base of the data disk; never written: each clone gets an overlay. */
      readonly baseDisk: string;
      /** How to renew the guest's DHCP lease (path + argv, run through guest exec). */
      readonly dhcpRenew?: GuestCommand;
    }
  /** A bootable qcow2 disk (a distro image with qemu-guest-agent and openssh-server). */
  | {
      readonly kind: 'disk';
      readonly bootDisk: string;
      readonly dhcpRenew?: GuestCommand;
    }
  /** A vSphere VM and its snapshot: workers are linked clones of that snapshot. */
  | {
      readonly kind: 'vsphere';
      /** Inventory path of the source VM (`DC0/vm/psm-template`). */
      readonly vm: string;
      readonly snapshot: string;
      readonly dhcpRenew?: GuestCommand;
    };

export interface GuestCommand {
  readonly path: string;
  readonly argv: readonly string[];
}

export type PowerState = 'running' | 'paused' | 'stopped';
export type AgentState = 'ready' | 'unresponsive' | 'not-running';

export interface WorkerStatus {
  readonly name: string;
  readonly power: PowerState;
  /** Only probed when asked for (it costs a round trip); 'not-running' when the VM is off. */
  readonly agent?: AgentState;
  /** Where the guest's SSH port is reachable from psm (user-mode networking: a host forward). */
  readonly ssh?: { readonly host: string; readonly port: number };
  /** Driver-specific facts for `psm vm inspect` (accelerator, directory, pid, ...). */
  readonly details: Readonly<Record<string, string | number | boolean>>;
}

export interface GuestAddress {
  readonly address: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly prefix: number;
  readonly interfaceName: string;
}

export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
}

export interface CopyInOptions extends OpOptions {
  /** Permission bits of the file in the guest (default 0o600). */
  readonly mode?: number;
  /** Owner in the guest (default: whoever the agent runs as, normally root). */
  readonly owner?: FileOwner;
}

export interface GuestFile {
  /** The file's bytes; the caller owns them (and wipes them when they are secret). */
  readonly data: Uint8Array;
  readonly mode: number;
  readonly owner: FileOwner;
}

export interface RunInGuestOptions extends OpOptions {
  /** Bytes for the program's stdin (closed afterwards). */
  readonly stdin?: Uint8Array;
  /** Extra environment, as NAME=value entries. */
  readonly env?: readonly string[];
}

export interface GuestProgramOutcome {
  /** Exit code, or null when the program died of a signal. */
  readonly exitCode: number | null;
  readonly signal: number | null;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  /** True when the agent cut the output at its own limit. */
  readonly truncated: boolean;
}

/** One worker VM. Holds at most one agent connection and one hypervisor connection. */
export interface Worker {
  readonly name: string;
  powerOn(options?: OpOptions): Promise<Result<void, GuestOpsError>>;
  status(
    options?: OpOptions & { readonly probeAgent?: boolean },
  ): Promise<Result<WorkerStatus, GuestOpsError>>;
  /** Waits until the guest agent answers (VIX WaitForToolsInGuest). */
  waitForAgent(options?: OpOptions): Promise<Result<void, GuestOpsError>>;
  /** The guest's primary address as the agent reports it (VIX ReadVariable "ip"). */
  readAddress(options?: OpOptions): Promise<Result<GuestAddress, GuestOpsError>>;
  /** Asks the guest for a fresh DHCP lease (roadmap 4.5: do it after every revert). */
  renewAddress(options?: OpOptions): Promise<Result<void, GuestOpsError>>;
  /** Writes `data` to `guestPath` atomically (temp file, mode/owner set, then renamed). */
  copyToGuest(
    data: Uint8Array,
    guestPath: string,
    options?: CopyInOptions,
  ): Promise<Result<void, GuestOpsError>>;
  copyFromGuest(guestPath: string, options?: OpOptions): Promise<Result<GuestFile, GuestOpsError>>;
  /** Runs `path` with `argv` (argv[0] is NOT included) in the guest; no shell is involved. */
  runProgram(
    path: string,
    argv: readonly string[],
    options?: RunInGuestOptions,
  ): Promise<Result<GuestProgramOutcome, GuestOpsError>>;
  takeSnapshot(snapshot: string, options?: OpOptions): Promise<Result<void, GuestOpsError>>;
  /** Restores the snapshot; the agent channel is resynchronised before this returns. */
  revertToSnapshot(snapshot: string, options?: OpOptions): Promise<Result<void, GuestOpsError>>;
  /** Asks the guest to power off (ACPI), then stops the VM hard after `graceMs`. */
  powerOff(options?: OpOptions & { readonly graceMs?: number }): Promise<Result<void, GuestOpsError>>;
  /** Closes this handle's connections; the VM keeps running. */
  close(): Promise<void>;
}

export interface WorkerSummary {
  readonly name: string;
  readonly power: PowerState;
}

/** A hypervisor: creates, finds and destroys workers. */
export interface GuestOpsDriver {
  readonly kind: string;
  /** A linked clone of `template`: shares the template's disk read-only, writes to its own. */
  cloneWorker(
    name: string,
    template: WorkerTemplate,
    options?: OpOptions,
  ): Promise<Result<Worker, GuestOpsError>>;
  openWorker(name: string, options?: OpOptions): Promise<Result<Worker, GuestOpsError>>;
  listWorkers(options?: OpOptions): Promise<Result<readonly WorkerSummary[], GuestOpsError>>;
  /** Stops the worker if it runs and removes everything the clone created. */
  destroyWorker(name: string, options?: OpOptions): Promise<Result<void, GuestOpsError>>;
}

/** The snapshot psm takes once a clone is prepared, and reverts to between jobs. */
export const CLEAN_SNAPSHOT = 'clean';

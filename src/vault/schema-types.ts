import type { KdfParams } from './master-key.js';

/** The typed contents of virtual.conf, as other psm modules use them. */
export type HypervisorKind = 'qemu' | 'vsphere';
export type KeySource = 'file' | 'passphrase';
export type QemuAccel = 'auto' | 'kvm' | 'tcg';
export type QemuNetwork = 'user' | 'bridge';

export const VAULT_FORMAT = 1;

export interface VaultHeader {
  readonly format: typeof VAULT_FORMAT;
  /** Random per file; bound into every sealed value so values cannot move between files. */
  readonly fileId: string;
  readonly keyId: string;
  readonly keySource: KeySource;
  /** Present exactly when keySource is 'passphrase'. */
  readonly kdf?: KdfParams;
}

export interface SealedField {
  readonly path: string;
  readonly text: string;
  readonly line: number | undefined;
}

export interface VirtualConf {
  readonly file: string;
  readonly location: string;
  readonly vault: VaultHeader;
  readonly hypervisor: {
    readonly kind: HypervisorKind;
    readonly uri: string | undefined;
    readonly username: string | undefined;
    /** True when hypervisor.password holds a sealed value (open it with openSecret). */
    readonly hasPassword: boolean;
    /** vSphere: the PEM CA file the server's chain must end at, or the certificate's SHA-256. */
    readonly tlsCa: string | undefined;
    readonly tlsSha256: string | undefined;
    /** vSphere: inventory path of the VM folder holding the workers, and of their resource pool. */
    readonly folder: string | undefined;
    readonly resourcePool: string | undefined;
    /** vSphere: refuse a session with privileges beyond contrib/vsphere/psm-role.txt. */
    readonly strictRole: boolean;
  };
  readonly storage: { readonly dir: string | undefined; readonly datastore: string | undefined };
  readonly qemu:
    | {
        readonly imageDir: string;
        readonly memoryMib: number;
        readonly accel: QemuAccel;
        readonly network: QemuNetwork;
        readonly bridge: string | undefined;
      }
    | undefined;
  readonly pool: {
    readonly maxVms: number;
    readonly keepFree: number;
    readonly cloneAtStart: number;
    /** An application with no job for this long is ended (seconds; 0: never). */
    readonly idleTimeoutSeconds: number;
    /** What ending an application does to its worker: back to the clean snapshot, or destroyed. */
    readonly onAppEnd: 'revert' | 'destroy';
  };
  readonly worker: {
    readonly namePrefix: string;
    readonly template: string;
    /** vSphere: the template VM's snapshot the workers are linked clones of. */
    readonly templateSnapshot: string | undefined;
    readonly cleanSnapshot: string;
    readonly guestUser: string;
    readonly hasGuestPassword: boolean;
    /** The address the workers see the admin VM at (the admin policy's `from` must include it). */
    readonly adminAddress: string;
  };
  readonly paths: { readonly keys: string; readonly policies: string; readonly state: string };
  /** Every sealed value by path ("hypervisor.password", "worker.guest_password", "secrets.NAME"). */
  readonly sealed: ReadonlyMap<string, SealedField>;
}

/** Fields that hold secrets: they must be sealed, never plain text. */
export const FIXED_SECRET_PATHS = ['hypervisor.password', 'worker.guest_password'] as const;
export const SECRET_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A secret path psm accepts for `vault set`: a fixed secret field or `secrets.NAME`. */
export function isSecretPath(path: string): boolean {
  if ((FIXED_SECRET_PATHS as readonly string[]).includes(path)) return true;
  return path.startsWith('secrets.') && SECRET_NAME.test(path.slice('secrets.'.length));
}

import { DEFAULT_GUEST_TOOLS, type GuestTools } from '../qga/guest-tools.js';
import type { AccelChoice } from './host.js';

/** How the QEMU driver runs VMs. Everything but the VM root has a default. */
export interface QemuDriverSettings {
  /** Directory that holds one sub-directory per VM. */
  readonly vmRoot: string;
  /** 'auto' = KVM when /dev/kvm is usable, TCG otherwise (env PSM_QEMU_ACCEL overrides 'auto'). */
  readonly accel: AccelChoice;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly qemuBinary: string;
  readonly qemuImg: string;
  readonly guestTools: GuestTools;
  /**
   * How long to wait for a VM another process is driving (its lock, vm-lock.ts) before
   * WORKER_BUSY. 0 (the CLI's): refuse at once. The daemon waits, so a `psm vm exec` run by hand
   * on a pool worker delays the daemon's next step on it instead of failing it.
   */
  readonly lockWaitMs: number;
}

export const DEFAULT_MEMORY_MIB = 256;
export const ACCEL_ENV = 'PSM_QEMU_ACCEL';

export function qemuDriverSettings(
  overrides: Partial<QemuDriverSettings> & { vmRoot: string },
): QemuDriverSettings {
  const fromEnv = process.env[ACCEL_ENV];
  const envAccel: AccelChoice | undefined =
    fromEnv === 'kvm' || fromEnv === 'tcg' || fromEnv === 'auto' ? fromEnv : undefined;
  return {
    accel: overrides.accel ?? envAccel ?? 'auto',
    memoryMiB: DEFAULT_MEMORY_MIB,
    cpus: 1,
    qemuBinary: 'qemu-system-x86_64',
    qemuImg: 'qemu-img',
    guestTools: DEFAULT_GUEST_TOOLS,
    lockWaitMs: 0,
    ...overrides,
  };
}

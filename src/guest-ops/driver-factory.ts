import { join, resolve } from 'node:path';
import { assertNever, ok, type Result } from '../common/result.js';
import { fail, type GuestOpsError } from './errors.js';
import type { GuestOpsDriver, WorkerTemplate } from './guest-ops.js';
import type { VsphereDriverSettings } from './vsphere/settings.js';
import { DEFAULT_WORKER_IMAGE_DIR, WORKER_IMAGE_ENV } from './image/manifest.js';
import { MAX_MEMORY_MIB, MIN_MEMORY_MIB } from './limits.js';

/**
 * The one place that knows which drivers exist: the CLI, the daemon and the job manager say
 * what they want (`{ kind: 'qemu', vmDirectory }`) and get a GuestOpsDriver, never a QemuDriver.
 * A vSphere driver adds a member to DriverSettings and a case to the switches below. Drivers
 * are imported when opened, so naming this module costs a command nothing until it uses a VM.
 */
export interface QemuSettings {
  readonly kind: 'qemu';
  /** Holds one sub-directory per worker. */
  readonly vmDirectory: string;
  /** Guest memory for new clones (default: the driver's). */
  readonly memoryMiB?: number;
  /** How long to wait for a VM another process is driving, in ms (default 0: WORKER_BUSY at once). */
  readonly lockWaitMs?: number;
}

/** A vCenter or ESXi: settings from virtual.conf [hypervisor], credentials from the vault. */
export interface VsphereSettings extends VsphereDriverSettings {
  readonly kind: 'vsphere';
}

export type DriverSettings = QemuSettings | VsphereSettings;

/** Where new workers are cloned from. */
export type TemplateSource =
  | {
      readonly kind: 'worker-image';
      /** An image directory made by `psm image build` (manifest.json, kernel, initrd, base disk). */
      readonly directory: string;
    }
  | {
      /** A vSphere VM (inventory path) and the snapshot workers are linked clones of. */
      readonly kind: 'vsphere-snapshot';
      readonly vm: string;
      readonly snapshot: string;
    };

export async function openDriver(settings: DriverSettings): Promise<Result<GuestOpsDriver, GuestOpsError>> {
  switch (settings.kind) {
    case 'qemu': {
      const { memoryMiB } = settings;
      if (
        memoryMiB !== undefined &&
        !(Number.isSafeInteger(memoryMiB) && memoryMiB >= MIN_MEMORY_MIB && memoryMiB <= MAX_MEMORY_MIB)
      )
        return fail('INVALID_ARGUMENT', `memory must be ${MIN_MEMORY_MIB} to ${MAX_MEMORY_MIB} MiB`);
      const { QemuDriver } = await import('./qemu/driver.js');
      return ok(
        new QemuDriver({
          vmRoot: settings.vmDirectory,
          ...(memoryMiB === undefined ? {} : { memoryMiB }),
          ...(settings.lockWaitMs === undefined ? {} : { lockWaitMs: settings.lockWaitMs }),
        }),
      );
    }
    case 'vsphere': {
      const { VsphereDriver } = await import('./vsphere/driver.js');
      return ok(new VsphereDriver(settings));
    }
    default:
      return assertNever(settings);
  }
}

export async function openTemplate(source: TemplateSource): Promise<Result<WorkerTemplate, GuestOpsError>> {
  switch (source.kind) {
    case 'worker-image': {
      const { templateFromImage } = await import('./qemu/template.js');
      return templateFromImage(source.directory);
    }
    case 'vsphere-snapshot':
      return ok({ kind: 'vsphere', vm: source.vm, snapshot: source.snapshot });
    default:
      return assertNever(source);
  }
}

/**
 * The VM directory of a POP-C++ location: `psm vm` and the daemon's worker pool share it, so a
 * worker made by hand is one the pool sees (and the other way round).
 */
export function defaultVmDirectory(location: string): string {
  return join(location, 'var', 'psm', 'vms');
}

/** $PSM_WORKER_IMAGE, else the image the test set-up builds (.cache/worker-image). */
export function defaultWorkerImageDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return env[WORKER_IMAGE_ENV] ?? DEFAULT_WORKER_IMAGE_DIR;
}

/** Where the driver keeps its workers, for messages and --json: the absolute VM directory. */
export function driverLocation(settings: DriverSettings): string {
  switch (settings.kind) {
    case 'qemu':
      return resolve(settings.vmDirectory);
    case 'vsphere':
      return `https://${settings.endpoint.host}:${settings.endpoint.port}/${settings.folder}`;
    default:
      return assertNever(settings);
  }
}

/**
 * The vSphere settings checks (URI, TLS pin) for layers above guest-ops, loaded on demand like
 * the drivers, so they never import a driver's files themselves.
 */
export function loadVsphereSettingsChecks(): Promise<typeof import('./vsphere/settings.js')> {
  return import('./vsphere/settings.js');
}

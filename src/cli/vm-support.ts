import { Option, type Command } from 'commander';
import type { Result } from '../common/result.js';
import {
  defaultVmDirectory,
  driverLocation,
  openDriver,
  type DriverSettings,
  type TemplateSource,
} from '../guest-ops/driver-factory.js';
import { guestOpsErrorCategory, type GuestOpsError } from '../guest-ops/errors.js';
import type { GuestOpsDriver, OpOptions, Worker } from '../guest-ops/guest-ops.js';
import { MAX_TIMEOUT_SECONDS } from '../guest-ops/limits.js';
import { INPUT_LIMITS, readStream } from '../common/bounded-read.js';
import { CliFailure, failureOf } from './failure.js';
import type { Interrupt } from './interrupt.js';
import { printJson, printLine, type CliIo } from './output.js';
import { resolveLocation } from '../vault/layout.js';
import { addKeyOptions, addLocationOption, keyOptions, orFail, type KeyFlags } from './vault-options.js';

/**
 * What every `psm vm` verb shares (src/cli/vm-*.ts): the common options, the driver and worker
 * handles, the operation options (timeout and Ctrl-C) and the one-line or JSON report. A verb
 * file gets one VmVerbs and uses nothing else of psm's but the library and unwrap/examples.
 */

export interface VmFlags extends KeyFlags {
  vmDir: string;
  json: boolean;
  timeout?: string;
  /** qemu (the VM directory) or vsphere (virtual.conf [hypervisor] of --location). */
  driver: 'qemu' | 'vsphere';
}

/** A driver as the CLI opened it: for vSphere also the template and the password to wipe. */
interface OpenedDriver {
  readonly settings: DriverSettings;
  readonly template?: TemplateSource;
  dispose(): void;
}

export class VmVerbs {
  private opened: OpenedDriver | undefined;

  constructor(
    readonly io: CliIo,
    private readonly interrupt: Interrupt,
  ) {}

  /** Adds the options every verb takes; the VM directory defaults to the POP-C++ location's. */
  command(command: Command, description: string): Command {
    return addVsphereOptions(
      command
        .description(description)
        // Read when the commands are registered, so --help shows the directory psm would use.
        .option(
          '--vm-dir <dir>',
          'directory holding one sub-directory per VM',
          defaultVmDirectory(resolveLocation(undefined)),
        )
        .addOption(
          new Option('--driver <kind>', 'qemu (--vm-dir) or vsphere ([hypervisor] in virtual.conf)')
            .choices(['qemu', 'vsphere'])
            .default('qemu'),
        )
        .option('--timeout <seconds>', 'give up after this long')
        .option('--json', 'print the result as JSON', false),
    );
  }

  /** The settings for --driver: QEMU's from the flags, vSphere's from the vault (password unsealed once). */
  async settings(flags: VmFlags, memoryMiB?: number): Promise<OpenedDriver> {
    if (this.opened !== undefined) return this.opened;
    if (flags.driver !== 'vsphere') {
      this.opened = { settings: driverSettings(flags, memoryMiB), dispose: () => undefined };
      return this.opened;
    }
    const { locationFrom, openVault, openSecret } = await import('../vault/index.js');
    const { vsphereSetup } = await import('../psm/vsphere-settings.js');
    const vault = orFail(await openVault(orFail(locationFrom(flags.location)), keyOptions(this.io, flags)));
    try {
      const password = orFail(openSecret(vault, 'hypervisor.password'));
      const guestPassword = vault.conf.worker.hasGuestPassword
        ? orFail(openSecret(vault, 'worker.guest_password'))
        : undefined;
      try {
        const setup = unwrap(await vsphereSetup(vault.conf, password, guestPassword));
        this.opened = { settings: setup.settings, template: setup.template, dispose: setup.dispose };
        return this.opened;
      } finally {
        password.fill(0);
        guestPassword?.fill(0);
      }
    } finally {
      vault.close();
    }
  }

  async driver(flags: VmFlags, memoryMiB?: number): Promise<GuestOpsDriver> {
    return unwrap(await openDriver((await this.settings(flags, memoryMiB)).settings));
  }

  /** For messages and --json: the VM directory, or the vSphere folder's URL. */
  async location(flags: VmFlags): Promise<string> {
    return driverLocation((await this.settings(flags)).settings);
  }

  /** Wipes what the driver was opened with (the vSphere password copy). */
  dispose(): void {
    this.opened?.dispose();
    this.opened = undefined;
  }

  /** Opens the worker, runs `work` and always closes the worker's connections. */
  async withWorker(flags: VmFlags, name: string, work: (worker: Worker) => Promise<void>): Promise<void> {
    const worker = unwrap(await (await this.driver(flags)).openWorker(name));
    try {
      await work(worker);
    } catch (error) {
      const { explainBusy } = await import('./daemon-busy.js');
      throw await explainBusy(error, flags.location);
    } finally {
      await worker.close();
    }
  }

  /** Timeout from --timeout (else `fallbackMs`), and Ctrl-C aborts the operation (ABORTED). */
  ops(flags: VmFlags, fallbackMs?: number): OpOptions {
    const timeoutMs =
      flags.timeout === undefined
        ? fallbackMs
        : integerOption(flags.timeout, '--timeout', 1, MAX_TIMEOUT_SECONDS) * 1000;
    return { signal: this.interrupt.signal, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
  }

  report(flags: VmFlags, value: Record<string, unknown>, text: string): void {
    if (flags.json) printJson(this.io, value);
    else printLine(this.io, text);
  }
}

export function examples(lines: string[]): string {
  return `\n\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

export function unwrap<T>(result: Result<T, GuestOpsError>): T {
  if (result.ok) return result.value;
  throw failureOf(result.error, guestOpsErrorCategory);
}

/** A whole number flag in [min, max]; anything else is a usage error. */
export function integerOption(text: string, flag: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max))
    throw new CliFailure('USAGE', `${flag} must be an integer from ${min} to ${max}`, 'usage');
  return value;
}

function addVsphereOptions(command: Command): Command {
  return addKeyOptions(addLocationOption(command));
}

export function driverSettings(flags: VmFlags, memoryMiB?: number): DriverSettings {
  return { kind: 'qemu', vmDirectory: flags.vmDir, ...(memoryMiB === undefined ? {} : { memoryMiB }) };
}

export async function readStdin(io: CliIo): Promise<Uint8Array> {
  const read = await readStream(io.stdin, INPUT_LIMITS.guestStdin, 'stdin');
  if (read.ok) return read.value;
  throw new CliFailure(
    read.error.code === 'TOO_LARGE' ? 'TOO_LARGE' : 'INPUT_UNREADABLE',
    read.error.message,
    'input',
  );
}

/** Node's own UTF-8 check (as `psm vault get` uses): whether output can be printed as text. */
export { isUtf8 } from 'node:buffer';

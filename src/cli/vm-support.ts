import type { Command } from 'commander';
import type { Result } from '../common/result.js';
import { defaultVmDirectory, openDriver, type DriverSettings } from '../guest-ops/driver-factory.js';
import { guestOpsErrorCategory, type GuestOpsError } from '../guest-ops/errors.js';
import type { GuestOpsDriver, OpOptions, Worker } from '../guest-ops/guest-ops.js';
import { MAX_TIMEOUT_SECONDS } from '../guest-ops/limits.js';
import { INPUT_LIMITS, readStream } from '../common/bounded-read.js';
import { CliFailure, failureOf } from './failure.js';
import type { Interrupt } from './interrupt.js';
import { printJson, printLine, type CliIo } from './output.js';
import { resolveLocation } from '../vault/layout.js';

/**
 * What every `psm vm` verb shares (src/cli/vm-*.ts): the common options, the driver and worker
 * handles, the operation options (timeout and Ctrl-C) and the one-line or JSON report. A verb
 * file gets one VmVerbs and uses nothing else of psm's but the library and unwrap/examples.
 */

export interface VmFlags {
  vmDir: string;
  json: boolean;
  timeout?: string;
}

export class VmVerbs {
  constructor(
    readonly io: CliIo,
    private readonly interrupt: Interrupt,
  ) {}

  /** Adds the options every verb takes; the VM directory defaults to the POP-C++ location's. */
  command(command: Command, description: string): Command {
    return (
      command
        .description(description)
        // Read when the commands are registered, so --help shows the directory psm would use.
        .option(
          '--vm-dir <dir>',
          'directory holding one sub-directory per VM',
          defaultVmDirectory(resolveLocation(undefined)),
        )
        .option('--timeout <seconds>', 'give up after this long')
        .option('--json', 'print the result as JSON', false)
    );
  }

  async driver(flags: VmFlags, memoryMiB?: number): Promise<GuestOpsDriver> {
    return unwrap(await openDriver(driverSettings(flags, memoryMiB)));
  }

  /** Opens the worker, runs `work` and always closes the worker's connections. */
  async withWorker(flags: VmFlags, name: string, work: (worker: Worker) => Promise<void>): Promise<void> {
    const worker = unwrap(await (await this.driver(flags)).openWorker(name));
    try {
      await work(worker);
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

export function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { err, ok, type Result } from '../../common/result.js';
import { RunError, runProgram } from '../../common/run-program.js';
import { guestOpsError, reasonOf, type GuestOpsError } from '../errors.js';
import { printable } from '../qga/replies.js';
import type { Accelerator } from './command-line.js';

/** Host-side facts and helpers for the QEMU driver: accelerator, free ports, host programs. */

export type AccelChoice = 'auto' | Accelerator;
export const KVM_DEVICE = '/dev/kvm';
const QEMU_IMG_TIMEOUT_MS = 30_000;

/**
 * KVM when /dev/kvm exists, this process may open it read-write, and the CPU advertises hardware
 * virtualisation (vmx/svm); TCG otherwise. The flag check matters inside VMs (Firecracker, some
 * clouds) that expose /dev/kvm without nested virtualisation: guests then stop in QEMU's
 * "internal-error" state instead of booting.
 */
export async function chooseAccelerator(choice: AccelChoice): Promise<Accelerator> {
  if (choice !== 'auto') return choice;
  try {
    await access(KVM_DEVICE, constants.R_OK | constants.W_OK);
  } catch {
    return 'tcg';
  }
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return hasVirtualisationFlag(cpuinfo) ? 'kvm' : 'tcg';
}

export function hasVirtualisationFlag(cpuinfo: string): boolean {
  return cpuinfo.split('\n').some((line) => /^flags\s*:/.test(line) && /\s(vmx|svm)(\s|$)/.test(line));
}

/**
 * A port on 127.0.0.1 that was free a moment ago. QEMU binds it a little later; if something
 * else took it meanwhile QEMU fails to start and the driver tries another port.
 */
export function freeLoopbackPort(): Promise<Result<number, GuestOpsError>> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error) =>
      resolve(err(guestOpsError('HYPERVISOR_FAILED', `no free port on 127.0.0.1 (${reasonOf(error)})`))),
    );
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() =>
        resolve(port > 0 ? ok(port) : err(guestOpsError('HYPERVISOR_FAILED', 'no free port'))),
      );
    });
  });
}

/** A linked clone: a qcow2 overlay whose backing file is the template's qcow2 (never written). */
export async function createOverlay(
  qemuImg: string,
  base: string,
  overlay: string,
  signal?: AbortSignal,
): Promise<Result<void, GuestOpsError>> {
  return runHostProgram(qemuImg, ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, overlay], {
    timeoutMs: QEMU_IMG_TIMEOUT_MS,
    signal,
  });
}

/** Runs a host program; a non-zero exit is HYPERVISOR_FAILED with the end of its stderr. */
export async function runHostProgram(
  file: string,
  argv: readonly string[],
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<Result<void, GuestOpsError>> {
  try {
    const outcome = await runProgram(file, argv, {
      timeoutMs: options.timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      maxOutputBytes: 1024 * 1024,
    });
    if (outcome.exitCode === 0) return ok(undefined);
    const stderr = printable(outcome.stderr.toString('utf8').trim().split('\n').slice(-3).join(' | '));
    return err(
      guestOpsError('HYPERVISOR_FAILED', `${file} failed (${outcome.exitCode ?? outcome.signal}): ${stderr}`),
    );
  } catch (error) {
    if (error instanceof RunError) {
      const code =
        error.code === 'TIMEOUT' ? 'TIMEOUT' : error.code === 'ABORTED' ? 'ABORTED' : 'HYPERVISOR_FAILED';
      return err(guestOpsError(code, error.message));
    }
    throw error;
  }
}

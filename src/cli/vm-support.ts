import { homedir } from 'node:os';
import { join } from 'node:path';
import { INPUT_LIMITS, readStream } from '../common/bounded-read.js';
import { assertNever, type Result } from '../common/result.js';
import type { GuestOpsError, GuestOpsErrorCode } from '../guest-ops/errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { CliFailure } from './failure.js';
import type { CliIo } from './output.js';

/** Defaults, option parsing and error mapping for `psm vm` (src/cli/vm.ts). */

/** $POPC_LOCATION/var/vms for a POP-C++ installation, else ~/.local/state/psm/vms. */
export function defaultVmDir(): string {
  if (process.env.POPC_LOCATION) return join(process.env.POPC_LOCATION, 'var', 'vms');
  return join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'psm', 'vms');
}

export function defaultImageDir(): string {
  return process.env.PSM_WORKER_IMAGE ?? join('.cache', 'worker-image');
}

export function examples(lines: string[]): string {
  return `\n\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

export function unwrap<T>(result: Result<T, GuestOpsError>): T {
  if (result.ok) return result.value;
  const where = result.error.file === undefined ? '' : ` (${result.error.file})`;
  throw new CliFailure(result.error.code, `${result.error.message}${where}`, exitCodeFor(result.error.code));
}

export function integerOption(text: string, flag: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max))
    throw new CliFailure('USAGE', `${flag} must be an integer from ${min} to ${max}`, EXIT.USAGE);
  return value;
}

export function modeOption(text: string): number {
  if (!/^0?[0-7]{3,4}$/.test(text))
    throw new CliFailure('USAGE', '--mode must be octal, like 0600 or 0755', EXIT.USAGE);
  return Number.parseInt(text, 8);
}

export function ownerOption(text: string): { uid: number; gid: number } {
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(text);
  if (match === null)
    throw new CliFailure('USAGE', '--owner must be numeric UID:GID, like 1000:1000', EXIT.USAGE);
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

export async function readStdin(io: CliIo): Promise<Uint8Array> {
  const read = await readStream(io.stdin, INPUT_LIMITS.guestStdin, 'stdin');
  if (read.ok) return read.value;
  throw new CliFailure(
    read.error.code === 'TOO_LARGE' ? 'TOO_LARGE' : 'INPUT_UNREADABLE',
    read.error.message,
    EXIT.INPUT,
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

export function exitCodeFor(code: GuestOpsErrorCode): ExitCode {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return EXIT.USAGE;
    case 'TEMPLATE_INVALID':
    case 'WORKER_NOT_FOUND':
    case 'WORKER_STATE_INVALID':
    case 'TOO_LARGE':
    case 'HOST_IO':
      return EXIT.INPUT;
    case 'WORKER_EXISTS':
    case 'WORKER_BUSY':
    case 'WORKER_RUNNING':
    case 'WORKER_NOT_RUNNING':
      return EXIT.REFUSED;
    case 'HYPERVISOR_FAILED':
    case 'HYPERVISOR_PROTOCOL':
    case 'AGENT_TIMEOUT':
    case 'AGENT_UNAVAILABLE':
    case 'AGENT_ERROR':
    case 'AGENT_PROTOCOL':
    case 'GUEST_PROGRAM_TIMEOUT':
    case 'GUEST_COMMAND_FAILED':
    case 'NO_ADDRESS':
    case 'SNAPSHOT_FAILED':
    case 'TIMEOUT':
    case 'ABORTED':
      return EXIT.EXTERNAL;
    default:
      return assertNever(code);
  }
}

import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Result } from '../common/result.js';
import { guestOpsErrorCategory, type GuestOpsError } from '../guest-ops/errors.js';
import { CliFailure, failureOf } from './failure.js';
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
  throw failureOf(result.error, guestOpsErrorCategory);
}

export function integerOption(text: string, flag: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max))
    throw new CliFailure('USAGE', `${flag} must be an integer from ${min} to ${max}`, 'usage');
  return value;
}

export function modeOption(text: string): number {
  if (!/^0?[0-7]{3,4}$/.test(text))
    throw new CliFailure('USAGE', '--mode must be octal, like 0600 or 0755', 'usage');
  return Number.parseInt(text, 8);
}

export function ownerOption(text: string): { uid: number; gid: number } {
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(text);
  if (match === null)
    throw new CliFailure('USAGE', '--owner must be numeric UID:GID, like 1000:1000', 'usage');
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

const STDIN_LIMIT = 8 * 1024 * 1024;

export async function readStdin(io: CliIo): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += bytes.length;
    if (total > STDIN_LIMIT)
      throw new CliFailure('TOO_LARGE', `stdin is larger than ${STDIN_LIMIT} bytes`, 'input');
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

export function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

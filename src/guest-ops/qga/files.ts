import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import { fail, guestOpsError, type GuestOpsError } from '../errors.js';
import type { FileOwner, GuestFile } from '../guest-ops.js';
import { Deadline } from '../wire/deadline.js';
import { DEFAULT_AGENT_CALL_TIMEOUT_MS, type AgentChannel } from './channel.js';
import { execInGuest } from './exec.js';
import { checkGuestPath, checkMode, checkOwnerId } from './guest-input.js';
import type { GuestTools } from './guest-tools.js';
import { decodeFileHandle, decodeFileRead, decodeFileWrite, printable } from './replies.js';

/**
 * Host→guest and guest→host file copies over guest-file-open/write/read/close, in base64 chunks.
 *
 * qemu-ga creates files with mode 0666 minus its umask, so a copy never writes the final path
 * directly: it writes into a fresh 0700 directory next to the target, sets owner and mode there,
 * then renames over the target (`mv -T`). A reader in the guest sees the old file or the complete
 * new one with its final mode, and nobody can open the file while it is still world-readable.
 */

export const DEFAULT_COPY_TIMEOUT_MS = 60_000;
/** Files psm moves are keys, configs and small payloads; 64 MiB is far above any of them. */
export const MAX_COPY_BYTES = 64 * 1024 * 1024;
/** Per guest-file-read/-write request (base64 makes the line a third longer). */
export const COPY_CHUNK_BYTES = 1024 * 1024;
const STEP_MS = DEFAULT_AGENT_CALL_TIMEOUT_MS;

export interface CopyToGuestRequest {
  readonly data: Uint8Array;
  readonly guestPath: string;
  readonly mode?: number;
  readonly owner?: FileOwner;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export async function copyToGuest(
  channel: AgentChannel,
  tools: GuestTools,
  request: CopyToGuestRequest,
): Promise<Result<void, GuestOpsError>> {
  const target = checkGuestPath(request.guestPath, 'the guest path');
  if (!target.ok) return fail('INVALID_ARGUMENT', target.error);
  if (target.value === '/') return fail('INVALID_ARGUMENT', 'the guest path must name a file');
  const mode = checkMode(request.mode ?? 0o600);
  if (!mode.ok) return fail('INVALID_ARGUMENT', mode.error);
  if (request.owner !== undefined) {
    for (const [id, what] of [
      [request.owner.uid, 'the owner uid'],
      [request.owner.gid, 'the owner gid'],
    ] as const) {
      const checked = checkOwnerId(id, what);
      if (!checked.ok) return fail('INVALID_ARGUMENT', checked.error);
    }
  }
  if (request.data.length > MAX_COPY_BYTES)
    return fail('TOO_LARGE', `the file is larger than ${MAX_COPY_BYTES} bytes`);
  const deadline = new Deadline(request.timeoutMs ?? DEFAULT_COPY_TIMEOUT_MS, request.signal);
  const stage = posix.join(posix.dirname(target.value), `.psm-copy-${randomBytes(8).toString('hex')}`);
  const staged = posix.join(stage, 'file');
  const made = await runTool(channel, tools, tools.mkdir, ['-m', '700', '--', stage], deadline);
  if (!made.ok) return made;
  const steps = async (): Promise<Result<void, GuestOpsError>> => {
    const written = await writeGuestFile(channel, staged, request.data, deadline);
    if (!written.ok) return written;
    if (request.owner !== undefined) {
      const owned = await runTool(
        channel,
        tools,
        tools.chown,
        [`${request.owner.uid}:${request.owner.gid}`, '--', staged],
        deadline,
      );
      if (!owned.ok) return owned;
    }
    const moded = await runTool(channel, tools, tools.chmod, [mode.value, '--', staged], deadline);
    if (!moded.ok) return moded;
    const moved = await runTool(channel, tools, tools.mv, ['-f', '-T', '--', staged, target.value], deadline);
    if (!moved.ok) return moved;
    return runTool(channel, tools, tools.rmdir, ['--', stage], deadline);
  };
  const outcome = await steps();
  if (!outcome.ok) {
    // Leave nothing behind in the guest; this gets its own short budget as the deadline may be spent.
    await runTool(channel, tools, tools.rm, ['-rf', '--', stage], new Deadline(STEP_MS));
  }
  return outcome;
}

async function writeGuestFile(
  channel: AgentChannel,
  path: string,
  data: Uint8Array,
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const opened = await channel.call('guest-file-open', { path, mode: 'w' }, deadline.step(STEP_MS));
  if (!opened.ok) return opened;
  const handle = decodeFileHandle(opened.value);
  if (!handle.ok) return fail('AGENT_PROTOCOL', `guest-file-open: ${handle.error}`);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  let result: Result<void, GuestOpsError> = ok(undefined);
  for (let offset = 0; offset < bytes.length && result.ok; offset += COPY_CHUNK_BYTES) {
    const chunk = bytes.subarray(offset, offset + COPY_CHUNK_BYTES);
    const wrote = await channel.call(
      'guest-file-write',
      { handle: handle.value, 'buf-b64': chunk.toString('base64') },
      deadline.step(STEP_MS),
    );
    if (!wrote.ok) result = wrote;
    else {
      const count = decodeFileWrite(wrote.value);
      if (!count.ok) result = fail('AGENT_PROTOCOL', `guest-file-write: ${count.error}`);
      else if (count.value !== chunk.length)
        result = fail('AGENT_ERROR', `the guest wrote ${count.value} of ${chunk.length} bytes`);
    }
  }
  const closed = await channel.call('guest-file-close', { handle: handle.value }, { timeoutMs: STEP_MS });
  if (result.ok && !closed.ok) return closed;
  return result;
}

export interface CopyFromGuestRequest {
  readonly guestPath: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export async function copyFromGuest(
  channel: AgentChannel,
  tools: GuestTools,
  request: CopyFromGuestRequest,
): Promise<Result<GuestFile, GuestOpsError>> {
  const path = checkGuestPath(request.guestPath, 'the guest path');
  if (!path.ok) return fail('INVALID_ARGUMENT', path.error);
  const deadline = new Deadline(request.timeoutMs ?? DEFAULT_COPY_TIMEOUT_MS, request.signal);
  const info = await statGuestFile(channel, tools, path.value, deadline);
  if (!info.ok) return info;
  if (info.value.size > MAX_COPY_BYTES)
    return fail('TOO_LARGE', `${path.value} is larger than ${MAX_COPY_BYTES} bytes`);
  const opened = await channel.call(
    'guest-file-open',
    { path: path.value, mode: 'r' },
    deadline.step(STEP_MS),
  );
  if (!opened.ok) return opened;
  const handle = decodeFileHandle(opened.value);
  if (!handle.ok) return fail('AGENT_PROTOCOL', `guest-file-open: ${handle.error}`);
  const chunks: Buffer[] = [];
  let total = 0;
  let result: Result<void, GuestOpsError> = ok(undefined);
  for (;;) {
    const read = await channel.call(
      'guest-file-read',
      { handle: handle.value, count: COPY_CHUNK_BYTES },
      deadline.step(STEP_MS),
    );
    if (!read.ok) {
      result = read;
      break;
    }
    const chunk = decodeFileRead(read.value, COPY_CHUNK_BYTES);
    if (!chunk.ok) {
      result = fail('AGENT_PROTOCOL', `guest-file-read: ${chunk.error}`);
      break;
    }
    total += chunk.value.bytes.length;
    if (total > MAX_COPY_BYTES) {
      result = fail('TOO_LARGE', `${path.value} is larger than ${MAX_COPY_BYTES} bytes`);
      break;
    }
    chunks.push(chunk.value.bytes);
    if (chunk.value.eof || chunk.value.bytes.length === 0) break;
  }
  await channel.call('guest-file-close', { handle: handle.value }, { timeoutMs: STEP_MS });
  if (!result.ok) {
    for (const chunk of chunks) chunk.fill(0);
    return result;
  }
  const data = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.length;
    // The file may be a secret: leave only the one copy the caller owns.
    chunk.fill(0);
  }
  return ok({ data, mode: info.value.mode, owner: info.value.owner });
}

interface GuestStat {
  readonly mode: number;
  readonly owner: FileOwner;
  readonly size: number;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

async function statGuestFile(
  channel: AgentChannel,
  tools: GuestTools,
  path: string,
  deadline: Deadline,
): Promise<Result<GuestStat, GuestOpsError>> {
  // %f is the raw st_mode in hex (type + permissions), the same in busybox and coreutils stat.
  const ran = await execInGuest(channel, tools, {
    path: tools.stat,
    argv: ['-L', '-c', '%f %u %g %s', '--', path],
    ...deadline.step(STEP_MS),
  });
  if (!ran.ok) return ran;
  if (ran.value.exitCode !== 0)
    return fail(
      'AGENT_ERROR',
      `cannot stat ${path} in the guest: ${printable(Buffer.from(ran.value.stderr).toString('utf8').trim())}`,
    );
  const parsed = parseStatLine(Buffer.from(ran.value.stdout).toString('utf8'));
  if (!parsed.ok) return err(guestOpsError('AGENT_PROTOCOL', `stat of ${path}: ${parsed.error}`));
  if ((parsed.value.rawMode & S_IFMT) !== S_IFREG)
    return fail('INVALID_ARGUMENT', `${path} is not a regular file`);
  return ok({ mode: parsed.value.rawMode & 0o7777, owner: parsed.value.owner, size: parsed.value.size });
}

/** `stat -c '%f %u %g %s'` output: hex mode, uid, gid, size, and a newline. */
export function parseStatLine(
  text: string,
): Result<{ rawMode: number; owner: FileOwner; size: number }, string> {
  const match = /^([0-9a-f]{1,8}) (\d{1,10}) (\d{1,10}) (\d{1,16})\n$/.exec(text);
  if (match === null) return err('unexpected stat output');
  const [, mode, uid, gid, size] = match;
  const numbers = [Number(uid), Number(gid), Number(size)];
  if (!numbers.every(Number.isSafeInteger)) return err('stat numbers out of range');
  return ok({
    rawMode: Number.parseInt(mode ?? '', 16),
    owner: { uid: numbers[0] ?? 0, gid: numbers[1] ?? 0 },
    size: numbers[2] ?? 0,
  });
}

/** Runs a helper program in the guest; a non-zero exit is GUEST_COMMAND_FAILED with its stderr. */
export async function runTool(
  channel: AgentChannel,
  tools: GuestTools,
  path: string,
  argv: readonly string[],
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const ran = await execInGuest(channel, tools, { path, argv, ...deadline.step(STEP_MS) });
  if (!ran.ok) return ran;
  if (ran.value.exitCode === 0) return ok(undefined);
  const stderr = printable(Buffer.from(ran.value.stderr).toString('utf8').trim());
  return fail(
    'GUEST_COMMAND_FAILED',
    `${path} exited with ${ran.value.exitCode ?? `signal ${ran.value.signal}`}: ${stderr}`,
  );
}

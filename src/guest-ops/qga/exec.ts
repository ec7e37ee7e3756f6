import { err, ok, type Result } from '../../common/result.js';
import { fail, guestOpsError, type GuestOpsError } from '../errors.js';
import type { GuestProgramOutcome } from '../guest-ops.js';
import { Deadline } from '../wire/deadline.js';
import { DEFAULT_AGENT_CALL_TIMEOUT_MS, type AgentChannel } from './channel.js';
import { checkArgv, checkEnv, checkGuestPath } from './guest-input.js';
import type { GuestTools } from './guest-tools.js';
import { decodeExecStarted, decodeExecStatus } from './replies.js';

/**
 * Runs a program in the guest: guest-exec {path, arg[], input-data, capture-output}, then polls
 * guest-exec-status with backoff until it exits. The agent spawns `path` directly with the argv
 * array, so no shell ever sees the arguments. On timeout the program is killed (SIGKILL through
 * the guest's kill) and the caller gets GUEST_PROGRAM_TIMEOUT.
 */

export const DEFAULT_GUEST_PROGRAM_TIMEOUT_MS = 60_000;
/** qemu-ga keeps at most 16 MiB of each stream; more in a reply is not from a real agent. */
export const MAX_GUEST_OUTPUT_BYTES = 16 * 1024 * 1024;
/** stdin travels as base64 inside one request line. */
export const MAX_GUEST_STDIN_BYTES = 8 * 1024 * 1024;
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 200;
const KILL_TIMEOUT_MS = 3_000;

export interface ExecRequest {
  readonly path: string;
  readonly argv: readonly string[];
  readonly stdin?: Uint8Array;
  readonly env?: readonly string[];
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export async function execInGuest(
  channel: AgentChannel,
  tools: GuestTools,
  request: ExecRequest,
): Promise<Result<GuestProgramOutcome, GuestOpsError>> {
  const args = checkRequest(request);
  if (!args.ok) return args;
  const deadline = new Deadline(request.timeoutMs ?? DEFAULT_GUEST_PROGRAM_TIMEOUT_MS, request.signal);
  const started = await channel.call('guest-exec', args.value, deadline.step(DEFAULT_AGENT_CALL_TIMEOUT_MS));
  if (!started.ok) return started;
  const pid = decodeExecStarted(started.value);
  if (!pid.ok) return fail('AGENT_PROTOCOL', `guest-exec: ${pid.error}`);
  let pollMs = FIRST_POLL_MS;
  for (;;) {
    const polled = await channel.call(
      'guest-exec-status',
      { pid: pid.value },
      deadline.step(DEFAULT_AGENT_CALL_TIMEOUT_MS),
    );
    if (!polled.ok) {
      // Out of time or aborted while asking: the program still runs and must be killed.
      if ((deadline.expired && polled.error.code === 'AGENT_TIMEOUT') || polled.error.code === 'ABORTED')
        break;
      return polled;
    }
    const status = decodeExecStatus(polled.value, MAX_GUEST_OUTPUT_BYTES);
    if (!status.ok) return fail('AGENT_PROTOCOL', `guest-exec-status: ${status.error}`);
    if (status.value.exited) {
      const { exitCode, signal, stdout, stderr, truncated } = status.value;
      return ok({ exitCode, signal, stdout, stderr, truncated });
    }
    if (!(await deadline.sleep(pollMs))) break;
    pollMs = Math.min(MAX_POLL_MS, Math.ceil(pollMs * 1.6));
  }
  const what = `${request.path} in the guest`;
  const killed = await killGuestProgram(channel, tools, pid.value);
  const reason = deadline.error('GUEST_PROGRAM_TIMEOUT', what);
  if (reason.code === 'ABORTED') return err(reason);
  if (!killed) return fail('AGENT_TIMEOUT', `${what} did not finish in time and could not be killed`);
  return err(reason);
}

function checkRequest(request: ExecRequest): Result<Record<string, unknown>, GuestOpsError> {
  const path = checkGuestPath(request.path, 'the program path');
  if (!path.ok) return err(guestOpsError('INVALID_ARGUMENT', path.error));
  const argv = checkArgv(request.argv);
  if (!argv.ok) return err(guestOpsError('INVALID_ARGUMENT', argv.error));
  const args: Record<string, unknown> = { path: path.value, arg: [...argv.value], 'capture-output': true };
  if (request.env !== undefined) {
    const env = checkEnv(request.env);
    if (!env.ok) return err(guestOpsError('INVALID_ARGUMENT', env.error));
    args.env = [...env.value];
  }
  if (request.stdin !== undefined) {
    if (request.stdin.length > MAX_GUEST_STDIN_BYTES)
      return fail('TOO_LARGE', `stdin is larger than ${MAX_GUEST_STDIN_BYTES} bytes`);
    args['input-data'] = Buffer.from(
      request.stdin.buffer,
      request.stdin.byteOffset,
      request.stdin.length,
    ).toString('base64');
  }
  return ok(args);
}

/** Best effort: SIGKILL the timed-out program, then collect its status so the agent forgets it. */
async function killGuestProgram(channel: AgentChannel, tools: GuestTools, pid: number): Promise<boolean> {
  const options = { timeoutMs: KILL_TIMEOUT_MS };
  const kill = await channel.call(
    'guest-exec',
    { path: tools.kill, arg: ['-KILL', String(pid)], 'capture-output': true },
    options,
  );
  if (!kill.ok) return false;
  const killer = decodeExecStarted(kill.value);
  const deadline = new Deadline(KILL_TIMEOUT_MS);
  for (const target of killer.ok ? [killer.value, pid] : [pid]) {
    for (;;) {
      const status = await channel.call('guest-exec-status', { pid: target }, deadline.step(KILL_TIMEOUT_MS));
      if (!status.ok) return false;
      const decoded = decodeExecStatus(status.value, MAX_GUEST_OUTPUT_BYTES);
      if (!decoded.ok) return false;
      if (decoded.value.exited) break;
      if (!(await deadline.sleep(20))) return false;
    }
  }
  return true;
}

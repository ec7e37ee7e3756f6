import { randomBytes } from 'node:crypto';
import { err, ok, type Result } from '../../common/result.js';
import { fail, guestOpsError, type GuestOpsError } from '../errors.js';
import type { GuestProgramOutcome } from '../guest-ops.js';
import { checkArgv, checkEnv, checkGuestPath } from '../qga/guest-input.js';
import { Deadline } from '../wire/deadline.js';
import { el } from './envelope.js';
import { returnval, type GuestCaller } from './guest-call.js';
import { downloadFile, removeFile, uploadFile } from './guest-files.js';
import type { Endpoint } from './transport.js';
import { child, childrenOf, textOf } from './xml.js';

/**
 * Running a program through the ProcessManager. StartProgramInGuest takes a program path and
 * ONE argument string, and VMware Tools on a POSIX guest run `"PATH" ARGUMENTS` with /bin/sh -c:
 * on vSphere a guest shell is part of the API. psm therefore never puts caller text into shell
 * syntax: it starts /bin/sh with a fixed script, and the caller's path and arguments follow as
 * positional parameters, each single-quoted (the only quoting with no special characters
 * inside). The script creates the output files while the umask is 077, puts the old umask back
 * and `exec`s the program, so the pid Tools return is the program's own:
 *
 *   "/bin/sh" -c 'm=$(umask); umask 077; : >OUT; : >ERR; umask "$m"; exec "$0" "$@" <IN >OUT 2>ERR' 'PATH' 'ARG'...
 *
 * Stdin is uploaded first (0600), stdout and stderr are fetched after the exit, and all three
 * are deleted. The exit code is polled with ListProcessesInGuest; at the deadline or on the
 * caller's signal psm sends TerminateProcessInGuest (SIGKILL) and reports GUEST_PROGRAM_TIMEOUT
 * or ABORTED. vSphere reports no signals: a killed program shows an exit code (128 + signal on
 * POSIX guests), and `signal` is null.
 */

export const MAX_VSPHERE_OUTPUT_BYTES = 16 * 1024 * 1024;
export const MAX_VSPHERE_STDIN_BYTES = 8 * 1024 * 1024;
const MAX_POLL_MS = 500;
const CLEANUP_MS = 5_000;
const GUEST_TMP = '/tmp';

/** A word the POSIX shell takes literally: '...' with each ' written as '\''. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export function programArguments(path: string, argv: readonly string[], files: TempFiles): string {
  const input = files.stdin ?? '/dev/null';
  const script =
    `m=$(umask); umask 077; : >${files.stdout}; : >${files.stderr}; umask "$m"; ` +
    `exec "$0" "$@" <${input} >${files.stdout} 2>${files.stderr}`;
  return ['-c', script, path, ...argv].map(shellQuote).join(' ');
}

export interface TempFiles {
  readonly stdin?: string;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunRequest {
  readonly path: string;
  readonly argv: readonly string[];
  readonly stdin?: Uint8Array;
  readonly env?: readonly string[];
}

export async function runInGuest(
  guest: GuestCaller,
  endpoint: Endpoint,
  request: RunRequest,
  deadline: Deadline,
): Promise<Result<GuestProgramOutcome, GuestOpsError>> {
  const path = checkGuestPath(request.path, 'the program path');
  if (!path.ok) return fail('INVALID_ARGUMENT', path.error);
  const argv = checkArgv(request.argv);
  if (!argv.ok) return fail('INVALID_ARGUMENT', argv.error);
  const env = checkEnv(request.env ?? []);
  if (!env.ok) return fail('INVALID_ARGUMENT', env.error);
  if (request.stdin !== undefined && request.stdin.length > MAX_VSPHERE_STDIN_BYTES)
    return fail('TOO_LARGE', `stdin is larger than ${MAX_VSPHERE_STDIN_BYTES} bytes`);
  const stem = `${GUEST_TMP}/.psm-run-${randomBytes(12).toString('hex')}`;
  const files: TempFiles = {
    ...(request.stdin === undefined ? {} : { stdin: `${stem}.in` }),
    stdout: `${stem}.out`,
    stderr: `${stem}.err`,
  };
  const made: string[] = [];
  try {
    if (files.stdin !== undefined && request.stdin !== undefined) {
      const put = await uploadFile(
        guest,
        endpoint,
        { data: request.stdin, guestPath: files.stdin, mode: 0o600 },
        deadline,
      );
      if (!put.ok) return put;
      made.push(files.stdin);
    }
    const started = await guest.call(
      'processManager',
      'StartProgramInGuest',
      [
        el(
          'spec',
          [
            el('programPath', '/bin/sh'),
            el('arguments', programArguments(path.value, argv.value, files)),
            ...env.value.map((entry) => el('envVariables', entry)),
          ],
          'GuestProgramSpec',
        ),
      ],
      deadline,
    );
    if (!started.ok) return started;
    made.push(files.stdout, files.stderr);
    const pidNode = returnval(started.value, 'StartProgramInGuest');
    if (!pidNode.ok) return pidNode;
    const pid = Number(pidNode.value.text);
    if (!Number.isSafeInteger(pid) || pid <= 0)
      return fail('HYPERVISOR_PROTOCOL', 'StartProgramInGuest: the answer is not a process id');
    const exitCode = await waitForExit(guest, pid, deadline);
    if (!exitCode.ok) return exitCode;
    const stdout = await downloadFile(guest, endpoint, files.stdout, MAX_VSPHERE_OUTPUT_BYTES, deadline);
    if (!stdout.ok) return stdout;
    const stderr = await downloadFile(guest, endpoint, files.stderr, MAX_VSPHERE_OUTPUT_BYTES, deadline);
    if (!stderr.ok) return stderr;
    return ok({
      exitCode: exitCode.value,
      signal: null,
      stdout: stdout.value.data,
      stderr: stderr.value.data,
      truncated: false,
    });
  } finally {
    // Whatever happened, leave no temp files behind (a fresh budget: the deadline may be gone).
    const cleanup = new Deadline(CLEANUP_MS);
    for (const file of made) await removeFile(guest, file, cleanup);
  }
}

async function waitForExit(
  guest: GuestCaller,
  pid: number,
  deadline: Deadline,
): Promise<Result<number, GuestOpsError>> {
  let pollMs = 50;
  for (;;) {
    const listed = await guest.call('processManager', 'ListProcessesInGuest', [el('pids', pid)], deadline);
    if (!listed.ok) {
      if (!deadline.aborted) return listed;
      break;
    }
    const info = childrenOf(listed.value, 'returnval').find((p) => textOf(p, 'pid') === String(pid));
    if (info === undefined)
      return fail('AGENT_ERROR', `the guest lost track of process ${pid} before it reported its exit`);
    if (child(info, 'endTime') !== undefined) {
      const code = Number(textOf(info, 'exitCode') ?? '0');
      return Number.isSafeInteger(code)
        ? ok(code)
        : fail('HYPERVISOR_PROTOCOL', 'ListProcessesInGuest: the exit code is not a number');
    }
    if (!(await deadline.sleep(pollMs))) break;
    pollMs = Math.min(MAX_POLL_MS, Math.ceil(pollMs * 1.6));
  }
  // Out of time, or the caller gave up: kill it in the guest, then say which.
  await guest.call('processManager', 'TerminateProcessInGuest', [el('pid', pid)], new Deadline(CLEANUP_MS));
  const reason = deadline.error('GUEST_PROGRAM_TIMEOUT', `the guest program (pid ${pid})`);
  return err(guestOpsError(reason.code, `${reason.message}; it was killed`));
}

import { readRegularFile } from '../../common/bounded-read.js';
import type { Result } from '../../common/result.js';
import { GUEST_USER } from '../../guest-ops/image/recipe.js';
import { pinnedKeys } from '../host-keys/pin-store.js';
import { layoutOf } from '../../vault/index.js';
import { runMainFail, type RunMainError } from './errors.js';
import type { RunMainRequest } from './request.js';
import { sshExec, type OutputSink, type SshExit } from './ssh-exec.js';

/** psm's admin private key is an OpenSSH ed25519 file of a few hundred bytes. */
export const MAX_ADMIN_KEY_BYTES = 16 * 1024;

export interface RunMainInput {
  readonly location: string;
  /** The application's worker and where its sshd is reached (from the daemon). */
  readonly worker: string;
  readonly ssh: { readonly host: string; readonly port: number } | null;
  readonly request: RunMainRequest;
  /** Where output goes; a sink that returns a promise (a full pipe) holds the stream until it settles. */
  readonly onStdout: OutputSink;
  readonly onStderr: OutputSink;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * The pseudo-main (roadmap 2.9): logs in to the application's worker as the POP-C++ user with
 * psm's admin key, whose authorized_keys line forces the admin policy's gate, and has the gate
 * run `popcobjrun OBJECT ARGS...`. The worker must present a host key pinned in psm's
 * known_hosts; the private key is read into memory only (never argv, environment or a copy) and
 * wiped once the session ends.
 */
export async function runMain(input: RunMainInput): Promise<Result<SshExit, RunMainError>> {
  if (input.ssh === null) return runMainFail('RUN_NOT_PREPARED', `${input.worker} has no SSH endpoint`);
  const pins = await pinnedKeys(input.location, input.worker);
  if (!pins.ok)
    return runMainFail(
      'RUN_NOT_PREPARED',
      `${input.worker} has no usable host key pin (${pins.error.message}); a daemon run with --untrusted-workers prepares no worker for run-main`,
    );
  const keyFile = layoutOf(input.location).adminKey;
  const key = await readRegularFile(keyFile, MAX_ADMIN_KEY_BYTES);
  if (!key.ok)
    return runMainFail(
      'RUN_ADMIN_KEY_UNREADABLE',
      `cannot read psm's admin key ${keyFile} (${key.error.code}); run psm init`,
    );
  try {
    return await sshExec({
      host: input.ssh.host,
      port: input.ssh.port,
      user: GUEST_USER,
      pins: pins.value,
      privateKey: key.value,
      command: input.request.command,
      onStdout: input.onStdout,
      onStderr: input.onStderr,
      timeoutMs: input.timeoutMs,
      ...(input.signal ? { signal: input.signal } : {}),
    });
  } finally {
    key.value.fill(0);
  }
}

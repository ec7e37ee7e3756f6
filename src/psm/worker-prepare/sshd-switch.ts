import { setTimeout as sleep } from 'node:timers/promises';
import { err, ok, type Result } from '../../common/result.js';
import type { PublicKey } from '../../authorized-keys/index.js';
import type { OpOptions, Worker } from '../../guest-ops/guest-ops.js';
import { verifyPresentedKeys } from '../host-keys/verify-identity.js';
import { WORKER_SSHD_HARDENING } from '../host-keys/sshd-config.js';
import { fromGuestOps, fromHostKeys, prepareError, type PrepareFailure } from './errors.js';
import type { GuestIdentityLayout } from './guest-layout.js';
import { runChecked, shortText } from './guest-run.js';

/**
 * Switching the guest's sshd to psm's config without ever leaving it without a working sshd:
 * the config is written under a temporary name and checked by the guest's own sshd (`-T`, the
 * extended test mode: it loads the config and the host keys like `-t` and prints the effective
 * settings), renamed into place, the listener is killed (busybox init starts it again with the
 * new config) and psm waits for it to present psm's keys. If it does not, the earlier config is
 * put back and sshd restarted with it. Old key files are deleted only afterwards, by the caller.
 */

/** How long the restarted sshd may take to present psm's keys (TCG guests are slow). */
export const SSHD_SWITCH_TIMEOUT_MS = 60_000;
const RETRY_MS = 300;
/** sshd -T prints a few hundred lines; more than this is not sshd. */
const MAX_EFFECTIVE_CONFIG_BYTES = 256 * 1024;

export function pendingConfigPath(layout: GuestIdentityLayout): string {
  return `${layout.sshdConfig}.new`;
}

/** What `sshd -T` must print for psm's config, besides exit 0. */
export function checkEffectiveConfig(
  output: string,
  hostKeyPaths: readonly string[],
  layout: GuestIdentityLayout,
): Result<void, PrepareFailure> {
  const lines = new Set(output.split('\n').map((line) => line.trim()));
  const missing = WORKER_SSHD_HARDENING.map(([k, v]) => `${k.toLowerCase()} ${v}`).filter(
    (line) => !lines.has(line),
  );
  const keys = [...lines].filter((line) => line.startsWith('hostkey ')).map((line) => line.slice(8));
  const sameKeys = keys.length === hostKeyPaths.length && hostKeyPaths.every((p) => keys.includes(p));
  const acceptEnv = [...lines].some((line) => line.startsWith('acceptenv '));
  const authorized = lines.has(`authorizedkeysfile ${layout.authorizedKeysDir}/%u`);
  if (missing.length === 0 && sameKeys && !acceptEnv && authorized) return ok(undefined);
  const what = [
    ...missing,
    ...(sameKeys
      ? []
      : [`hostkey (sshd would use ${keys.length} keys, psm installed ${hostKeyPaths.length})`]),
    ...(acceptEnv ? ['no acceptenv'] : []),
    ...(authorized ? [] : [`authorizedkeysfile ${layout.authorizedKeysDir}/%u`]),
  ];
  return err(
    prepareError('SSHD_CONFIG_INEFFECTIVE', `sshd -T in the guest does not show: ${what.join(', ')}`),
  );
}

/** Writes the config under its temporary name and has the guest's sshd check it. */
export async function checkConfigInGuest(
  worker: Worker,
  layout: GuestIdentityLayout,
  config: string,
  hostKeyPaths: readonly string[],
  ops: OpOptions,
): Promise<Result<void, PrepareFailure>> {
  const pending = pendingConfigPath(layout);
  const written = await worker.copyToGuest(Buffer.from(config, 'utf8'), pending, {
    ...ops,
    mode: 0o644,
    owner: { uid: 0, gid: 0 },
  });
  if (!written.ok) return err(fromGuestOps(written.error, `writing ${pending}`));
  const spec = `user=${layout.guestUser},host=psm-prepare,addr=127.0.0.1`;
  const ran = await worker.runProgram(layout.sshd, ['-T', '-f', pending, '-C', spec], ops);
  if (!ran.ok) return err(fromGuestOps(ran.error, 'sshd -T in the guest'));
  if (ran.value.exitCode !== 0)
    return err(
      prepareError(
        'SSHD_CONFIG_REJECTED',
        `sshd -T in the guest refused psm's config (exit ${ran.value.exitCode}): ${shortText(ran.value.stderr)}`,
      ),
    );
  if (ran.value.truncated || ran.value.stdout.length > MAX_EFFECTIVE_CONFIG_BYTES)
    return err(prepareError('GUEST_ANSWER_INVALID', 'sshd -T printed more than psm reads'));
  return checkEffectiveConfig(Buffer.from(ran.value.stdout).toString('utf8'), hostKeyPaths, layout);
}

/** The listener's pid from its pid file, checked to be the guest's sshd before it is signalled. */
async function sshdListenerPid(
  worker: Worker,
  layout: GuestIdentityLayout,
  ops: OpOptions,
): Promise<Result<string, PrepareFailure>> {
  const file = await worker.copyFromGuest(layout.sshdPidFile, ops);
  if (!file.ok) return err(fromGuestOps(file.error, `reading ${layout.sshdPidFile}`));
  const text = Buffer.from(file.value.data).toString('latin1');
  const pid = /^([1-9][0-9]{0,9})\n?$/.exec(text)?.[1];
  if (pid === undefined)
    return err(prepareError('GUEST_ANSWER_INVALID', `${layout.sshdPidFile} does not hold one pid`));
  const exe = await runChecked(worker, layout.programs.readlink, [`/proc/${pid}/exe`], ops);
  if (!exe.ok) return exe;
  if (Buffer.from(exe.value.stdout).toString('latin1').trim() !== layout.sshd)
    return err(
      prepareError('GUEST_ANSWER_INVALID', `pid ${pid} of ${layout.sshdPidFile} is not ${layout.sshd}`),
    );
  return ok(pid);
}

/** Kills the listener; init starts sshd again with whatever config is in place now. */
export async function restartSshd(
  worker: Worker,
  layout: GuestIdentityLayout,
  ops: OpOptions,
): Promise<Result<void, PrepareFailure>> {
  const pid = await sshdListenerPid(worker, layout, ops);
  if (!pid.ok) return pid;
  const killed = await runChecked(worker, layout.programs.kill, [pid.value], ops);
  return killed.ok ? ok(undefined) : killed;
}

/** Waits until host:port presents exactly `keys` (the old listener may answer for a moment). */
export async function awaitPresentedKeys(
  endpoint: { readonly host: string; readonly port: number },
  keys: readonly PublicKey[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Result<number, PrepareFailure>> {
  const end = Date.now() + timeoutMs;
  for (let attempts = 1; ; attempts += 1) {
    const verified = await verifyPresentedKeys(endpoint.host, endpoint.port, keys, signal);
    if (verified.ok) return ok(attempts);
    if (signal?.aborted === true || Date.now() + RETRY_MS > end) return err(fromHostKeys(verified.error));
    await sleep(RETRY_MS);
  }
}

/**
 * Renames the checked config into place and restarts sshd; if the new sshd does not present
 * `keys`, puts `previous` back (or removes psm's config when there was none) and restarts again.
 */
export async function switchSshd(
  worker: Worker,
  layout: GuestIdentityLayout,
  endpoint: { readonly host: string; readonly port: number },
  keys: readonly PublicKey[],
  previous: Uint8Array | null,
  ops: OpOptions,
): Promise<Result<number, PrepareFailure>> {
  const moved = await runChecked(
    worker,
    layout.programs.mv,
    ['-f', pendingConfigPath(layout), layout.sshdConfig],
    ops,
  );
  if (!moved.ok) return moved;
  const restarted = await restartSshd(worker, layout, ops);
  const presented = restarted.ok
    ? await awaitPresentedKeys(endpoint, keys, SSHD_SWITCH_TIMEOUT_MS, ops.signal)
    : restarted;
  if (presented.ok) return presented;
  const restored =
    previous === null
      ? await runChecked(worker, layout.programs.rm, ['-f', '--', layout.sshdConfig], ops)
      : await worker.copyToGuest(previous, layout.sshdConfig, {
          ...ops,
          mode: 0o644,
          owner: { uid: 0, gid: 0 },
        });
  if (restored.ok) await restartSshd(worker, layout, ops);
  return err(
    prepareError(
      'SSHD_RESTART_FAILED',
      `sshd did not come back with psm's keys (${presented.error.code}: ${presented.error.message}); the earlier config was ${restored.ok ? 'put back' : 'NOT put back'}`,
    ),
  );
}

import { posix } from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import type { OpOptions, Worker } from '../../guest-ops/guest-ops.js';
import { fromGuestOps, prepareError, type PrepareFailure } from './errors.js';
import type { GuestIdentityLayout } from './guest-layout.js';
import { runChecked, shortText } from './guest-run.js';

/**
 * The files that make a clone look like its template, found by one `find` in the guest and
 * classified here (virt-sysprep's ssh-hostkeys, machine-id and dhcp-client-state operations):
 * host keys, machine-id files and DHCP leases. The guest's answer is untrusted: only paths
 * directly inside the layout's directories, with names psm asked for, are ever acted on.
 */
export interface IdentityFiles {
  /** Every `ssh_host_*` / `psm_host_*` file in the host key directories. */
  readonly hostKeys: readonly string[];
  /** machine-id files that exist (the main one is emptied, the others removed). */
  readonly machineIds: readonly string[];
  readonly leases: readonly string[];
  /**
   * Staging directories a killed copy left in a host key directory (`.psm-copy-*`, root 0700):
   * one may hold a private key that never reached its name.
   */
  readonly staleCopies: readonly string[];
  /** psm's sshd_config is there (an earlier prepare, finished or not, switched sshd to it). */
  readonly psmConfig: boolean;
}

/** More names than this in the answer is not a worker psm knows how to reset. */
export const MAX_IDENTITY_FILES = 256;
const HOST_KEY_NAME = /^(?:ssh|psm)_host_[A-Za-z0-9_.-]+$/;
const STALE_COPY_NAME = /^\.psm-copy-[0-9a-f]{16}$/;
const LEASE_NAME = /^[A-Za-z0-9_.:@+-]+\.leases?$/;
const SAFE_PATH = /^\/[A-Za-z0-9_.:@+/-]+$/;

function roots(layout: GuestIdentityLayout): string[] {
  const machineIdDirs = [layout.machineIdFile, ...layout.extraMachineIdFiles].map((p) => posix.dirname(p));
  const configDir = posix.dirname(layout.sshdConfig);
  return [...new Set([...layout.hostKeyDirs, configDir, ...machineIdDirs, ...layout.leaseDirs])];
}

export function identityFindArgv(layout: GuestIdentityLayout): string[] {
  const names = [
    'ssh_host_*',
    'psm_host_*',
    'machine-id',
    '*.lease',
    '*.leases',
    posix.basename(layout.sshdConfig),
    '.psm-copy-*',
  ];
  const tests = names.flatMap((name, i) => (i === 0 ? ['-name', name] : ['-o', '-name', name]));
  return [...roots(layout), '-mindepth', '1', '-maxdepth', '1', '(', ...tests, ')', '-print0'];
}

/** find exits 1 when a directory is missing (no leases directory, say); that alone is fine. */
function onlyMissingRoots(stderr: string, layout: GuestIdentityLayout): boolean {
  const known = new Set(roots(layout));
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .every((line) => {
      const m = /^find: [‘']?(\/[^’':]*)[’']?: No such file or directory$/.exec(line);
      return m !== null && known.has(m[1] ?? '');
    });
}

export function parseIdentityListing(
  answer: { exitCode: number | null; stdout: Uint8Array; stderr: Uint8Array; truncated: boolean },
  layout: GuestIdentityLayout,
): Result<IdentityFiles, PrepareFailure> {
  const stderr = Buffer.from(answer.stderr).toString('utf8');
  const said = shortText(answer.stderr);
  const exitOk = answer.exitCode === 0 || (answer.exitCode === 1 && onlyMissingRoots(stderr, layout));
  if (!exitOk || answer.truncated)
    return err(
      prepareError(
        'GUEST_ANSWER_INVALID',
        `listing the identity files failed (exit ${answer.exitCode}): ${said}`,
      ),
    );
  const text = Buffer.from(answer.stdout).toString('latin1');
  const paths = text === '' ? [] : text.replace(/\0$/, '').split('\0');
  if (paths.length > MAX_IDENTITY_FILES)
    return err(prepareError('GUEST_ANSWER_INVALID', `the guest lists ${paths.length} identity files`));
  const hostKeys: string[] = [];
  const machineIds: string[] = [];
  const leases: string[] = [];
  const staleCopies: string[] = [];
  let psmConfig = false;
  for (const path of paths) {
    if (!SAFE_PATH.test(path) || path.includes('/../') || path.includes('/./'))
      return err(prepareError('GUEST_ANSWER_INVALID', 'the guest listed a path psm does not accept'));
    const dir = posix.dirname(path);
    const name = posix.basename(path);
    if (path === layout.sshdConfig) psmConfig = true;
    else if (layout.hostKeyDirs.includes(dir) && HOST_KEY_NAME.test(name)) hostKeys.push(path);
    else if (layout.hostKeyDirs.includes(dir) && STALE_COPY_NAME.test(name)) staleCopies.push(path);
    else if (path === layout.machineIdFile || layout.extraMachineIdFiles.includes(path))
      machineIds.push(path);
    else if (layout.leaseDirs.includes(dir) && LEASE_NAME.test(name)) leases.push(path);
    // Anything else (a file psm did not ask for) is left alone.
  }
  return ok({ hostKeys, machineIds, leases, staleCopies, psmConfig });
}

export async function listIdentityFiles(
  worker: Worker,
  layout: GuestIdentityLayout,
  ops: OpOptions,
): Promise<Result<IdentityFiles, PrepareFailure>> {
  const ran = await worker.runProgram(layout.programs.find, identityFindArgv(layout), ops);
  if (!ran.ok) return err(fromGuestOps(ran.error, 'listing the identity files'));
  return parseIdentityListing(ran.value, layout);
}

/** `rm -f -- PATHS` (`-rf` for directories) in the guest, a bounded number of paths per run. */
export async function removeGuestFiles(
  worker: Worker,
  layout: GuestIdentityLayout,
  paths: readonly string[],
  ops: OpOptions,
  recursive = false,
): Promise<Result<number, PrepareFailure>> {
  let runs = 0;
  const flag = recursive ? '-rf' : '-f';
  for (let i = 0; i < paths.length; i += 64) {
    const ran = await runChecked(worker, layout.programs.rm, [flag, '--', ...paths.slice(i, i + 64)], ops);
    if (!ran.ok) return ran;
    runs += 1;
  }
  return ok(runs);
}

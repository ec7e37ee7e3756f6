import { posix } from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import type { PublicKey } from '../../authorized-keys/index.js';
import { wipeKeyPair, type SshKeyPair } from '../../authorized-keys/keys/index.js';
import type { OpOptions, Worker } from '../../guest-ops/guest-ops.js';
import { generateGate } from '../gate/index.js';
import { checkGuestPublicKey } from '../host-keys/guest-answers.js';
import type { KeyPolicy } from '../policy/types.js';
import { fromGuestOps, fromHostKeys, type PrepareFailure } from './errors.js';
import type { GuestIdentityLayout } from './guest-layout.js';
import { runChecked } from './guest-run.js';
import { removeGuestFiles, type IdentityFiles } from './identity-files.js';
import type { PreparedGate } from './worker-record.js';

/** What prepare writes into the guest: keys, gates, the identity reset. One guest op per file. */
type Done<T> = Promise<Result<T, PrepareFailure>>;
const ROOT = { uid: 0, gid: 0 } as const;

/** Private key root 0600, then `.pub` root 0644; each private half is wiped once it is sent. */
export async function installKeys(
  worker: Worker,
  pairs: readonly SshKeyPair[],
  paths: readonly string[],
  ops: OpOptions,
): Done<void> {
  for (const [i, pair] of pairs.entries()) {
    const path = paths[i] ?? '';
    const secret = await worker.copyToGuest(pair.privateKey, path, { ...ops, mode: 0o600, owner: ROOT });
    // Installed (or failed): the private half is not needed again either way.
    wipeKeyPair(pair);
    if (!secret.ok) return err(fromGuestOps(secret.error, `installing ${path}`));
    const pub = await worker.copyToGuest(Buffer.from(pair.publicKey), `${path}.pub`, {
      ...ops,
      mode: 0o644,
      owner: ROOT,
    });
    if (!pub.ok) return err(fromGuestOps(pub.error, `installing ${path}.pub`));
  }
  return ok(undefined);
}

/** Each `.pub` read back from the guest must hold exactly the key psm made: nothing else is pinned. */
export async function readBackKeys(
  worker: Worker,
  pairs: readonly SshKeyPair[],
  paths: readonly string[],
  ops: OpOptions,
): Done<PublicKey[]> {
  const keys: PublicKey[] = [];
  for (const [i, pair] of pairs.entries()) {
    const path = `${paths[i] ?? ''}.pub`;
    const file = await worker.copyFromGuest(path, ops);
    if (!file.ok)
      return err(
        file.error.code === 'TOO_LARGE'
          ? fromHostKeys({ code: 'GUEST_ANSWER_TOO_LARGE', message: `${path}: ${file.error.message}` })
          : fromGuestOps(file.error, `reading ${path} back`),
      );
    const key = checkGuestPublicKey(file.value.data, path, pair.publicBlob);
    if (!key.ok) return err(fromHostKeys(key.error));
    keys.push(key.value);
  }
  return ok(keys);
}

/** Each policy's gate at its path, root 0755, in directories made root 0755 when missing. */
export async function installGates(
  worker: Worker,
  layout: GuestIdentityLayout,
  policies: readonly KeyPolicy[],
  ops: OpOptions,
): Done<PreparedGate[]> {
  const gates = policies.map((policy) => ({ policy, gate: generateGate(policy) }));
  const dirs = [...new Set(gates.map(({ policy }) => posix.dirname(policy.gatePath)))];
  if (dirs.length > 0) {
    const made = await runChecked(worker, layout.programs.mkdir, ['-p', '-m', '0755', '--', ...dirs], ops);
    if (!made.ok) return made;
  }
  for (const { policy, gate } of gates) {
    const copied = await worker.copyToGuest(Buffer.from(gate.script), policy.gatePath, {
      ...ops,
      mode: 0o755,
      owner: ROOT,
    });
    if (!copied.ok) return err(fromGuestOps(copied.error, `installing the gate ${policy.gatePath}`));
  }
  return ok(
    gates.map(({ policy, gate }) => ({ policy: policy.name, path: policy.gatePath, sha256: gate.sha256 })),
  );
}

/**
 * After the switch: every host key file the survey found but this run's (the template's, the
 * image's first-boot key, earlier runs'), the DHCP leases, and machine-id (emptied, not
 * removed, as virt-sysprep does: systemd makes a new one at the next boot). Returns what went.
 */
export async function resetIdentity(
  worker: Worker,
  layout: GuestIdentityLayout,
  survey: IdentityFiles,
  keyPaths: readonly string[],
  ops: OpOptions,
): Done<string[]> {
  const ours = new Set(keyPaths.flatMap((path) => [path, `${path}.pub`]));
  const remove = [
    ...survey.hostKeys.filter((path) => !ours.has(path)),
    ...survey.leases,
    ...survey.machineIds.filter((path) => path !== layout.machineIdFile),
  ];
  const removed = await removeGuestFiles(worker, layout, remove, ops);
  if (!removed.ok) return removed;
  const stale = await removeGuestFiles(worker, layout, survey.staleCopies, ops, true);
  if (!stale.ok) return stale;
  if (survey.machineIds.includes(layout.machineIdFile)) {
    const emptied = await worker.copyToGuest(new Uint8Array(0), layout.machineIdFile, {
      ...ops,
      mode: 0o444,
      owner: ROOT,
    });
    if (!emptied.ok) return err(fromGuestOps(emptied.error, `emptying ${layout.machineIdFile}`));
  }
  return ok([...remove, ...survey.staleCopies]);
}

import { readFile } from 'node:fs/promises';
import { CLEAN_SNAPSHOT, type Worker } from '../guest-ops/guest-ops.js';
import type { KeyPolicy } from '../psm/policy/types.js';
import type { PrepareOutcome } from '../psm/worker-prepare/index.js';
import { CliFailure, failureOf } from './failure.js';
import type { CliIo } from './output.js';
import { openActLog, recordAct } from './record-act.js';
import { keyOptions, orFail, type KeyFlags } from './vault-options.js';

/**
 * What `psm worker prepare` does after prepareWorker: records the host keys it made and pinned,
 * writes psm's admin key under the admin policy (key exchange: the whole authorized_keys, read
 * back), and takes the clean snapshot again, so a worker reverted between jobs still holds it.
 */
export async function finishPrepare(
  io: CliIo,
  flags: KeyFlags,
  location: string,
  worker: Worker,
  policies: readonly KeyPolicy[],
  done: PrepareOutcome,
  writeAdminKey: boolean,
): Promise<{ adminFingerprint: string | null }> {
  const { layoutOf, loadConfig } = await import('../vault/index.js');
  const { AUDIT_ACTIONS } = await import('../psm/audit-log/index.js');
  const { installAdminKey, keyExchangeErrorCategory } = await import('../psm/key-exchange/index.js');
  const { guestOpsErrorCategory } = await import('../guest-ops/errors.js');
  const conf = orFail(await loadConfig(location));
  const role = (name: KeyPolicy['role']): KeyPolicy => {
    const found = policies.find((p) => p.role === name);
    if (found === undefined)
      throw new CliFailure('KEYX_POLICY', `no ${name} policy among the prepared policies`, 'input');
    return found;
  };
  const log = await openActLog(location, keyOptions(io, flags));
  try {
    await recordAct(log, {
      action: AUDIT_ACTIONS.hostKeyMade,
      subject: {
        worker: done.worker,
        generation: done.keyGeneration,
        fingerprints: done.hostKeys.map((k) => k.fingerprint),
      },
    });
    await recordAct(log, {
      action: AUDIT_ACTIONS.hostKeyPinned,
      subject: {
        worker: done.worker,
        knownHosts: done.knownHosts,
        fingerprints: done.hostKeys.map((k) => k.fingerprint),
      },
    });
    if (!writeAdminKey) return { adminFingerprint: null };
    const settings = {
      location,
      policies: { admin: role('admin'), mainNode: role('main-node'), initiator: role('initiator') },
      adminAddress: conf.worker.adminAddress,
      audit: log,
    };
    const adminPub = await readFile(`${layoutOf(location).adminKey}.pub`, 'utf8').catch(() => {
      throw new CliFailure(
        'KEY_UNREADABLE',
        `${layoutOf(location).adminKey}.pub cannot be read (run psm init)`,
        'unreadable',
      );
    });
    const installed = await installAdminKey(settings, worker, adminPub);
    if (!installed.ok) throw failureOf(installed.error, keyExchangeErrorCategory);
    const snapshot = await worker.takeSnapshot(CLEAN_SNAPSHOT);
    if (!snapshot.ok) throw failureOf(snapshot.error, guestOpsErrorCategory);
    return { adminFingerprint: installed.value.fingerprints[0] ?? '' };
  } finally {
    log.close();
  }
}

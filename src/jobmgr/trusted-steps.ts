import { err, ok, type Result } from '../common/result.js';
import { CLEAN_SNAPSHOT } from '../guest-ops/guest-ops.js';
import {
  grantApplication,
  installAdminKey,
  reapplyIntendedKeys,
  revokeApplication,
  type KeyExchangeSettings,
} from '../psm/key-exchange/index.js';
import { pinnedKeys } from '../psm/host-keys/pin-store.js';
import { prepareWorker, type PrepareWorkerInput } from '../psm/worker-prepare/index.js';
import type { GuestOpsLifecycleSteps } from './guest-ops-lifecycle.js';
import type { LifecycleError } from './lifecycle.js';
import type { ApplicationKey } from './state/rows.js';

export interface TrustedStepsInput {
  /** Where the host keys are pinned, the gates the worker gets (prepareWorker). */
  readonly prepare: PrepareWorkerInput;
  /** The role policies, the admin address and the audit log (the key exchange). */
  readonly keyExchange: KeyExchangeSettings;
  /** psm's admin public key (`type base64 comment`), installed before the clean snapshot. */
  readonly adminPublicKey: string;
}

const failure = (error: { code: string; message: string }): Result<never, LifecycleError> =>
  err({ code: error.code, message: error.message });

/**
 * The pool's trust steps from psm's own modules: prepareWorker (fresh host keys made on the admin,
 * psm's sshd config, pins, gates), then the admin key through the key exchange, then the clean
 * snapshot again, so every revert comes back to a worker that has its pinned identity and only
 * the admin key. Grants go through the key exchange's whole-file writes; `grant` is made
 * idempotent (the pool's contract) by revoking an earlier grant of the same application first.
 * After a revert the intended keys are written again, so the record and the worker agree.
 */
export function trustedSteps(input: TrustedStepsInput): GuestOpsLifecycleSteps {
  return {
    async prepare(worker, options) {
      const prepared = await prepareWorker(
        worker,
        input.prepare,
        options.signal ? { signal: options.signal } : {},
      );
      if (!prepared.ok) return failure(prepared.error);
      const admin = await installAdminKey(input.keyExchange, worker, input.adminPublicKey, options);
      if (!admin.ok) return failure(admin.error);
      const snapshot = await worker.takeSnapshot(CLEAN_SNAPSHOT, options);
      if (!snapshot.ok) return failure(snapshot.error);
      return ok({ ssh: prepared.value.ssh, hostKeys: prepared.value.hostKeys.map((k) => k.publicKey) });
    },
    async grant(worker, appId, keys: readonly ApplicationKey[], options) {
      if (keys.length === 0) return ok(undefined);
      const mainNodes = keys.filter((k) => k.role === 'main-node');
      const [mainNode] = mainNodes;
      if (mainNode === undefined || mainNodes.length !== 1)
        return err({ code: 'KEYX_BAD_KEY', message: 'an application has exactly one main-node key' });
      // Revoking an application that holds nothing succeeds, so this makes a retried grant exact.
      const earlier = await revokeApplication(input.keyExchange, worker, appId, options);
      if (!earlier.ok) return failure(earlier.error);
      const initiator = keys.filter((k) => k.role === 'initiator').map((k) => k.key);
      const granted = await grantApplication(
        input.keyExchange,
        worker,
        appId,
        { mainNode: mainNode.key, initiator },
        options,
      );
      return granted.ok ? ok(undefined) : failure(granted.error);
    },
    async revoke(worker, appId, options) {
      const revoked = await revokeApplication(input.keyExchange, worker, appId, options);
      return revoked.ok ? ok(undefined) : failure(revoked.error);
    },
    async pinnedHostKeys(name) {
      const pinned = await pinnedKeys(input.prepare.location, name);
      return pinned.ok ? ok(pinned.value.map((k) => `${k.type} ${k.base64}`)) : failure(pinned.error);
    },
    async afterRevert(worker, options) {
      // The worker's file becomes the record's again (after an end, only the admin key).
      const reapplied = await reapplyIntendedKeys(input.keyExchange, worker, options);
      return reapplied.ok ? ok(undefined) : failure(reapplied.error);
    },
  };
}

import { err, ok, type Result } from '../common/result.js';
import { CLEAN_SNAPSHOT, type Worker } from '../guest-ops/guest-ops.js';
import type { GuestOpsLifecycleSteps } from './guest-ops-lifecycle.js';
import type { LifecycleError, LifecycleOptions } from './lifecycle.js';
import type { PreparedWorker } from './state/rows.js';

/**
 * The steps `psm daemon` uses until prepareWorker (fresh host keys, psm's sshd config, pinning)
 * and the key exchange land in src/psm/ and are wired in their place. They are NOT a trusted
 * preparation: `prepare` only takes the clean snapshot of the booted clone (it pins no host key,
 * so `hostKeys` is empty), and `grant` refuses any key (KEY_EXCHANGE_UNAVAILABLE) rather than
 * pretend to install it. A reserve without keys works end to end; one with keys fails closed.
 */
export const INTERIM_STEPS: GuestOpsLifecycleSteps = {
  prepare: snapshotOnlyPrepare,
  grant: (_worker, _appId, keys) =>
    Promise.resolve(
      keys.length === 0
        ? ok(undefined)
        : err({
            code: 'KEY_EXCHANGE_UNAVAILABLE',
            message: 'this psm cannot install application keys on a worker yet',
          }),
    ),
  revoke: () => Promise.resolve(ok(undefined)),
};

/** Takes the clean snapshot of a booted clone and reports its SSH endpoint; pins nothing. */
export async function snapshotOnlyPrepare(
  worker: Worker,
  options: LifecycleOptions,
): Promise<Result<PreparedWorker, LifecycleError>> {
  const status = await worker.status(options);
  if (!status.ok) return err({ code: status.error.code, message: status.error.message });
  const ssh = status.value.ssh;
  if (ssh === undefined) return err({ code: 'NO_ADDRESS', message: `${worker.name} has no SSH endpoint` });
  const snapshot = await worker.takeSnapshot(CLEAN_SNAPSHOT, options);
  if (!snapshot.ok) return err({ code: snapshot.error.code, message: snapshot.error.message });
  return ok({ ssh, hostKeys: [] });
}

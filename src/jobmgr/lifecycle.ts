import type { Result } from '../common/result.js';
import type { ApplicationKey, PreparedWorker } from './state/rows.js';

/**
 * What the pool asks of the machinery that makes and trusts workers. The pool decides when (its
 * state machine, src/jobmgr/pool.ts); an implementation decides how: `guest-ops-lifecycle.ts`
 * over a GuestOpsDriver (QEMU today), `memory-lifecycle.ts` for the stress test and the unit
 * tests of the pool's logic.
 *
 * Contract (the pool relies on every line):
 * - every method is safe to call again after a crash at any point of an earlier call
 *   (reconcile does exactly that): `destroy` of a worker that does not exist succeeds, `boot` of
 *   a running worker succeeds, `grantApplication` sets the application's keys to exactly `keys`
 *   (never a delta), `revokeApplication` of keys that are not there succeeds;
 * - the pool never runs two methods on the same worker at once;
 * - nothing secret is in a LifecycleError (it is logged and sent to clients).
 */
export interface LifecycleError {
  /** The code of the module that failed (a GuestOpsErrorCode, a host-keys or key-exchange code). */
  readonly code: string;
  readonly message: string;
}

export interface LifecycleOptions {
  readonly signal?: AbortSignal;
}

export interface WorkerPresence {
  readonly name: string;
  readonly running: boolean;
}

export interface WorkerLifecycle {
  /** A linked clone of the pool's template, named `name`, not yet running. */
  clone(name: string, options?: LifecycleOptions): Promise<Result<void, LifecycleError>>;
  /** Powers the worker on (if it is off) and waits for its guest agent. */
  boot(name: string, options?: LifecycleOptions): Promise<Result<void, LifecycleError>>;
  /**
   * Makes a booted clone a trusted worker: fresh host keys pinned, psm's sshd config and gates,
   * the admin key, a fresh address; then takes the clean snapshot every revert returns to.
   */
  prepare(name: string, options?: LifecycleOptions): Promise<Result<PreparedWorker, LifecycleError>>;
  /** Installs exactly `keys` (main node, initiators) for application `appId` on the worker. */
  grantApplication(
    name: string,
    appId: string,
    keys: readonly ApplicationKey[],
    options?: LifecycleOptions,
  ): Promise<Result<void, LifecycleError>>;
  /** Removes application `appId`'s keys from the worker. */
  revokeApplication(
    name: string,
    appId: string,
    options?: LifecycleOptions,
  ): Promise<Result<void, LifecycleError>>;
  /** Back to the clean snapshot (with a fresh address); the host keys stay the pinned ones. */
  revert(name: string, options?: LifecycleOptions): Promise<Result<void, LifecycleError>>;
  /** Stops the worker and removes everything its clone made. */
  destroy(name: string, options?: LifecycleOptions): Promise<Result<void, LifecycleError>>;
  /**
   * The host keys psm pins for the worker now (`type base64` lines), when they are kept outside
   * the pool: `psm rotate-keys --host-keys` replaces a free worker's out of the daemon's sight,
   * and a reserve must name the keys the worker presents. Absent: the ones `prepare` answered.
   */
  pinnedHostKeys?(name: string): Promise<Result<readonly string[], LifecycleError>>;
  /** Every worker the hypervisor has in the pool's VM directory, the pool's or not. */
  list(options?: LifecycleOptions): Promise<Result<readonly WorkerPresence[], LifecycleError>>;
}

import { err, ok, type Result } from '../common/result.js';
import type { GuestOpsError } from '../guest-ops/errors.js';
import {
  CLEAN_SNAPSHOT,
  type GuestOpsDriver,
  type Worker,
  type WorkerTemplate,
} from '../guest-ops/guest-ops.js';
import type { LifecycleError, LifecycleOptions, WorkerLifecycle, WorkerPresence } from './lifecycle.js';
import type { ApplicationKey, PreparedWorker } from './state/rows.js';

/**
 * The pool's lifecycle over a GuestOpsDriver (QEMU today, vSphere later). Clone, boot, revert,
 * destroy and list are the driver's own operations. Preparing a worker and installing or removing
 * an application's keys are psm's trust steps (src/psm/: prepareWorker, the key exchange): they
 * are passed in, so this file never decides what a trusted worker is. Each call opens the worker,
 * does its work and closes the handle: the agent serves one client at a time, and the pool never
 * runs two calls on one worker at once.
 */
export type PrepareStep = (
  worker: Worker,
  options: LifecycleOptions,
) => Promise<Result<PreparedWorker, LifecycleError>>;
export type GrantStep = (
  worker: Worker,
  appId: string,
  keys: readonly ApplicationKey[],
  options: LifecycleOptions,
) => Promise<Result<void, LifecycleError>>;
export type RevokeStep = (
  worker: Worker,
  appId: string,
  options: LifecycleOptions,
) => Promise<Result<void, LifecycleError>>;

export interface GuestOpsLifecycleSteps {
  readonly prepare: PrepareStep;
  readonly grant: GrantStep;
  readonly revoke: RevokeStep;
  /**
   * Runs after every revert to the clean snapshot: the snapshot was taken at preparation, and a
   * later change psm made on purpose (a rotated admin key whose snapshot refresh was cut) must
   * not be undone by the revert.
   */
  readonly afterRevert?: (worker: Worker, options: LifecycleOptions) => Promise<Result<void, LifecycleError>>;
  /** WorkerLifecycle.pinnedHostKeys (read on the admin: no guest operation). */
  readonly pinnedHostKeys?: (name: string) => Promise<Result<readonly string[], LifecycleError>>;
}

export interface GuestOpsLifecycleOptions extends GuestOpsLifecycleSteps {
  readonly driver: GuestOpsDriver;
  readonly template: WorkerTemplate;
  /** Per-operation timeouts (ms); the driver's defaults otherwise. */
  readonly bootTimeoutMs?: number;
}

const asLifecycle = <T>(result: Result<T, GuestOpsError>): Result<T, LifecycleError> =>
  result.ok ? result : err({ code: result.error.code, message: result.error.message });

export class GuestOpsLifecycle implements WorkerLifecycle {
  readonly pinnedHostKeys?: (name: string) => Promise<Result<readonly string[], LifecycleError>>;

  constructor(private readonly o: GuestOpsLifecycleOptions) {
    if (o.pinnedHostKeys !== undefined) this.pinnedHostKeys = o.pinnedHostKeys;
  }

  private async withWorker<T>(
    name: string,
    work: (worker: Worker) => Promise<Result<T, LifecycleError>>,
  ): Promise<Result<T, LifecycleError>> {
    const opened = await this.o.driver.openWorker(name);
    if (!opened.ok) return asLifecycle(opened);
    try {
      return await work(opened.value);
    } finally {
      await opened.value.close();
    }
  }

  async clone(name: string, options: LifecycleOptions = {}): Promise<Result<void, LifecycleError>> {
    const cloned = await this.o.driver.cloneWorker(name, this.o.template, options);
    if (!cloned.ok) return asLifecycle(cloned);
    await cloned.value.close();
    return ok(undefined);
  }

  boot(name: string, options: LifecycleOptions = {}): Promise<Result<void, LifecycleError>> {
    return this.withWorker(name, async (worker) => {
      const ops = {
        ...options,
        ...(this.o.bootTimeoutMs === undefined ? {} : { timeoutMs: this.o.bootTimeoutMs }),
      };
      const status = await worker.status(options);
      if (!status.ok) return asLifecycle(status);
      if (status.value.power === 'stopped') {
        const on = await worker.powerOn(options);
        if (!on.ok) return asLifecycle(on);
      }
      return asLifecycle(await worker.waitForAgent(ops));
    });
  }

  prepare(name: string, options: LifecycleOptions = {}): Promise<Result<PreparedWorker, LifecycleError>> {
    return this.withWorker(name, (worker) => this.o.prepare(worker, options));
  }

  grantApplication(
    name: string,
    appId: string,
    keys: readonly ApplicationKey[],
    options: LifecycleOptions = {},
  ): Promise<Result<void, LifecycleError>> {
    return this.withWorker(name, (worker) => this.o.grant(worker, appId, keys, options));
  }

  revokeApplication(
    name: string,
    appId: string,
    options: LifecycleOptions = {},
  ): Promise<Result<void, LifecycleError>> {
    return this.withWorker(name, (worker) => this.o.revoke(worker, appId, options));
  }

  revert(name: string, options: LifecycleOptions = {}): Promise<Result<void, LifecycleError>> {
    return this.withWorker(name, async (worker) => {
      const reverted = asLifecycle(await worker.revertToSnapshot(CLEAN_SNAPSHOT, options));
      if (!reverted.ok || this.o.afterRevert === undefined) return reverted;
      return this.o.afterRevert(worker, options);
    });
  }

  async destroy(name: string, options: LifecycleOptions = {}): Promise<Result<void, LifecycleError>> {
    const gone = await this.o.driver.destroyWorker(name, options);
    if (!gone.ok && gone.error.code === 'WORKER_NOT_FOUND') return ok(undefined);
    return asLifecycle(gone);
  }

  async list(options: LifecycleOptions = {}): Promise<Result<readonly WorkerPresence[], LifecycleError>> {
    const listed = await this.o.driver.listWorkers(options);
    if (!listed.ok) return asLifecycle(listed);
    return ok(listed.value.map((w) => ({ name: w.name, running: w.power !== 'stopped' })));
  }
}

import type { Logger } from '../common/logger.js';
import { ok, type Result } from '../common/result.js';
import type { LifecycleError, WorkerLifecycle } from './lifecycle.js';
import type { PoolObserver } from './observer.js';
import type { OnAppEnd } from './settings.js';
import type { PreparedWorker } from './state/rows.js';
import type { PoolStore } from './state/store.js';

export type LifecycleOperation =
  'clone' | 'boot' | 'prepare' | 'grant' | 'revoke' | 'revert' | 'destroy' | 'list';

export interface WorkerOpsContext {
  readonly store: PoolStore;
  readonly lifecycle: WorkerLifecycle;
  readonly observer: PoolObserver;
  readonly log: Logger;
  readonly now: () => number;
  /** Aborted when a shutdown's grace period is over. */
  readonly signal: AbortSignal;
  /** A worker became ready (wake a waiter). */
  readonly onReady: () => void;
  /** A worker row went away or failed (refill). */
  readonly onGone: () => void;
  /** A build or re-preparation ended (before the refill a failure triggers, so its back-off applies). */
  readonly onBuilt: (ok: boolean) => void;
}

/**
 * The multi-step paths of a worker's life, each step a lifecycle call followed by one state
 * transition. A failure at any step marks the worker failed and destroys it; a crash between
 * steps leaves a state that reconcile resumes from (src/jobmgr/reconcile.ts).
 */
export class WorkerOps {
  constructor(private readonly c: WorkerOpsContext) {}

  async call<T>(
    operation: LifecycleOperation,
    name: string,
    work: () => Promise<Result<T, LifecycleError>>,
  ): Promise<Result<T, LifecycleError>> {
    const started = performance.now();
    const outcome = await work();
    this.c.observer.operation(
      operation,
      outcome.ok ? undefined : outcome.error.code,
      performance.now() - started,
    );
    if (!outcome.ok)
      this.c.log.warn('worker operation failed', {
        worker: name,
        operation,
        code: outcome.error.code,
        reason: outcome.error.message,
      });
    return outcome;
  }

  private get options(): { signal: AbortSignal } {
    return { signal: this.c.signal };
  }

  /** cloning -> booting -> preparing -> ready; false when the worker failed on the way. */
  async build(name: string): Promise<boolean> {
    const cloned = await this.call('clone', name, () => this.c.lifecycle.clone(name, this.options));
    if (!cloned.ok) return this.buildFailed(name, cloned.error);
    if (!this.c.store.transition(name, ['cloning'], 'booting', this.c.now())) return false;
    return this.bootAndPrepare(name);
  }

  /** booting -> preparing -> ready: also how reconcile finishes a half-prepared worker. */
  async bootAndPrepare(name: string): Promise<boolean> {
    const booted = await this.call('boot', name, () => this.c.lifecycle.boot(name, this.options));
    if (!booted.ok) return this.buildFailed(name, booted.error);
    if (!this.c.store.transition(name, ['booting'], 'preparing', this.c.now())) return false;
    const prepared: Result<PreparedWorker, LifecycleError> = await this.call('prepare', name, () =>
      this.c.lifecycle.prepare(name, this.options),
    );
    if (!prepared.ok) return this.buildFailed(name, prepared.error);
    if (!this.c.store.markPrepared(name, prepared.value, this.c.now())) return false;
    this.c.log.info('worker ready', { worker: name, ssh: prepared.value.ssh });
    this.c.onBuilt(true);
    this.c.onReady();
    return true;
  }

  /**
   * The end of an application on `name` (already `reverting`): its keys are removed, then the
   * worker is reverted to its clean snapshot and freed, or destroyed. A failed revoke destroys the
   * worker: the revert would clear the guest, but psm's record of its keys could still name the
   * application, and a later grant would write them back.
   */
  async retire(
    name: string,
    appId: string | undefined,
    mode: OnAppEnd,
  ): Promise<Result<void, LifecycleError>> {
    if (appId !== undefined) {
      const revoked = await this.call('revoke', name, () =>
        this.c.lifecycle.revokeApplication(name, appId, this.options),
      );
      // psm's record of the worker's keys may still name the application: no one else gets this worker.
      if (!revoked.ok) {
        await this.discard(name, revoked.error);
        return revoked;
      }
    }
    if (mode === 'destroy') {
      const gone = await this.destroy(name, 'the application ended (on_app_end = "destroy")');
      if (gone.ok) this.c.observer.rotation('destroy');
      return gone;
    }
    const reverted = await this.call('revert', name, () => this.c.lifecycle.revert(name, this.options));
    if (!reverted.ok) {
      await this.discard(name, reverted.error);
      return reverted;
    }
    if (this.c.store.finishRevert(name, this.c.now())) {
      this.c.observer.rotation('revert');
      this.c.log.info('worker reverted', { worker: name, app: appId });
      this.c.onReady();
    }
    return ok(undefined);
  }

  private buildFailed(name: string, cause: LifecycleError): Promise<false> {
    this.c.onBuilt(false);
    return this.discard(name, cause);
  }

  /** failed, then destroyed and its row removed (the pool refills); always false, for build's callers. */
  async discard(name: string, cause: LifecycleError): Promise<false> {
    this.c.store.markFailed(name, `${cause.code}: ${cause.message}`, this.c.now());
    await this.destroy(name, `it failed (${cause.code})`);
    return false;
  }

  /** Destroys the VM, then removes its row; a VM that will not go keeps its `failed` row for a retry. */
  async destroy(name: string, why: string): Promise<Result<void, LifecycleError>> {
    const gone = await this.call('destroy', name, () => this.c.lifecycle.destroy(name, this.options));
    if (!gone.ok) {
      this.c.store.markFailed(
        name,
        `destroy failed: ${gone.error.code}: ${gone.error.message}`,
        this.c.now(),
      );
      this.c.onGone();
      return gone;
    }
    this.c.store.removeWorker(name);
    this.c.log.info('worker destroyed', { worker: name, why });
    this.c.onGone();
    return ok(undefined);
  }
}

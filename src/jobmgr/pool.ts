export type { Assignment, PoolDeps, PoolStatus, ReserveRequest } from './pool-types.js';
import { createLogger, type Logger } from '../common/logger.js';
import { ok, type Result } from '../common/result.js';
import { jobFail, type JobMgrError } from './errors.js';
import { FreeWaiters } from './free-waiters.js';
import { currentHostKeys } from './host-key-refresh.js';
import { KeyedLock } from './keyed-lock.js';
import type { WorkerLifecycle } from './lifecycle.js';
import { DEFAULT_RESERVE_WAIT_MS, MAX_JOBS_PER_APP, MAX_KEYS_PER_APP } from './limits.js';
import { SILENT_OBSERVER, type PoolObserver } from './observer.js';
import { reconcile, type ReconcileReport } from './reconcile.js';
import { mergeKeys } from './requests.js';
import type { PoolSettings } from './settings.js';
import type { AppRow, ApplicationKey, WorkerRow } from './state/rows.js';
import type { PoolStore } from './state/store.js';
import { Supply } from './supply.js';
import type { Assignment, PoolDeps, PoolStatus, ReserveRequest } from './pool-types.js';
import { TaskSet } from './task-set.js';
import { WorkerOps } from './worker-ops.js';

/**
 * The warm pool and the application -> worker assignment (roadmap 2.3, 2.5). Requests for one
 * application run one at a time (KeyedLock), so a second job of an application always finds the
 * worker the first one got; every state change goes through PoolStore, one transaction each.
 */
export class Pool {
  readonly store: PoolStore;
  private readonly lifecycle: WorkerLifecycle;
  private readonly settings: PoolSettings;
  private readonly log: Logger;
  private readonly observer: PoolObserver;
  private readonly now: () => number;
  private readonly lock = new KeyedLock();
  private readonly waiters = new FreeWaiters();
  private readonly tasks = new TaskSet();
  private readonly abort = new AbortController();
  private readonly ops: WorkerOps;
  private readonly supply: Supply;
  private readonly maintenanceMs: number;
  private maintenance: NodeJS.Timeout | undefined;
  private draining = false;
  private closed = false;

  constructor(deps: PoolDeps) {
    this.store = deps.store;
    this.lifecycle = deps.lifecycle;
    this.settings = deps.settings;
    this.log = deps.log ?? createLogger({ level: 'error' });
    this.observer = deps.observer ?? SILENT_OBSERVER;
    this.now = deps.now ?? Date.now;
    this.maintenanceMs = deps.maintenanceMs ?? 5_000;
    this.ops = new WorkerOps({
      store: this.store,
      lifecycle: this.lifecycle,
      observer: this.observer,
      log: this.log,
      now: this.now,
      signal: this.abort.signal,
      onReady: () => this.waiters.wake(1),
      onGone: () => this.fill(),
      onBuilt: (built) => this.supply.built(built),
    });
    this.supply = new Supply(this.store, this.settings, this.now, (name) =>
      this.tasks.track(this.ops.build(name)),
    );
    this.supply.onRetry = () => this.fill();
  }

  /** Reconciles the state with the hypervisor, then starts filling and the maintenance timer. */
  async start(): Promise<Result<ReconcileReport, JobMgrError>> {
    const report = await reconcile({
      store: this.store,
      lifecycle: this.lifecycle,
      ops: this.ops,
      settings: this.settings,
      log: this.log,
      now: this.now,
      track: (work) => this.tasks.track(work),
      locked: (appId, work) => this.lock.run(appId, work),
    });
    if (!report.ok) return report;
    this.fill();
    this.maintenance = setInterval(() => this.maintain(), this.maintenanceMs).unref();
    return report;
  }

  async reserve(request: ReserveRequest): Promise<Result<Assignment, JobMgrError>> {
    const started = performance.now();
    const outcome = await this.tasks.track(this.lock.run(request.appId, () => this.reserveLocked(request)));
    this.observer.reserve(
      outcome.ok ? (outcome.value.warm ? 'warm' : 'cold') : 'error',
      performance.now() - started,
    );
    return outcome;
  }

  private async reserveLocked(request: ReserveRequest): Promise<Result<Assignment, JobMgrError>> {
    const { appId, jobId } = request;
    if (this.closed) return jobFail('POOL_CLOSED', 'the daemon is shutting down');
    const existing = this.store.app(appId);
    if (existing !== undefined) return this.joinExisting(existing, request);
    if (this.draining)
      return jobFail('POOL_CLOSED', 'the pool is draining: no new applications (psm pool fill reopens it)');
    const claimed = await this.claim(
      appId,
      request.keys,
      this.now() + (request.waitMs ?? DEFAULT_RESERVE_WAIT_MS),
    );
    if (!claimed.ok) return claimed;
    const { row, warm } = claimed.value;
    const granted = await this.ops.call('grant', row.name, () =>
      this.lifecycle.grantApplication(row.name, appId, request.keys, { signal: this.abort.signal }),
    );
    if (!granted.ok) {
      // Keys may be half-installed: the worker goes back to its clean snapshot before anyone else gets it.
      this.store.beginEnd(appId, this.now());
      await this.ops.retire(row.name, appId, this.endMode());
      return jobFail(
        'LIFECYCLE_FAILED',
        `installing the keys of ${appId} failed: ${granted.error.code}: ${granted.error.message}`,
      );
    }
    this.store.activate(appId, jobId, request.keys, this.now());
    this.log.info('application reserved', { app: appId, job: jobId, worker: row.name, warm });
    return ok(await this.assignment(row, appId, jobId, warm));
  }

  /** Another job of an application that has its worker: the same worker, any new keys added. */
  private async joinExisting(app: AppRow, request: ReserveRequest): Promise<Result<Assignment, JobMgrError>> {
    if (app.phase === 'ending')
      return jobFail('APP_ENDING', `${app.appId} is ending; reserve again once it has ended`);
    if (!app.jobs.includes(request.jobId) && app.jobs.length >= MAX_JOBS_PER_APP)
      return jobFail('TOO_MANY', `${app.appId} already holds ${MAX_JOBS_PER_APP} jobs`);
    const keys = mergeKeys(app.keys, request.keys);
    if (keys.length > MAX_KEYS_PER_APP)
      return jobFail('TOO_MANY', `at most ${MAX_KEYS_PER_APP} keys per application`);
    if (app.phase === 'granting' || keys.length !== app.keys.length) {
      const granted = await this.ops.call('grant', app.worker, () =>
        this.lifecycle.grantApplication(app.worker, app.appId, keys, { signal: this.abort.signal }),
      );
      if (!granted.ok)
        return jobFail(
          'LIFECYCLE_FAILED',
          `installing the keys of ${app.appId} failed: ${granted.error.code}: ${granted.error.message}`,
        );
    }
    this.store.activate(app.appId, request.jobId, keys, this.now());
    const row = this.store.worker(app.worker);
    if (row === undefined) throw new Error(`application ${app.appId} names the missing worker ${app.worker}`);
    return ok(await this.assignment(row, app.appId, request.jobId, true));
  }

  /** A free prepared worker for `appId`, waiting (first come, first served) up to `deadline`. */
  private async claim(
    appId: string,
    keys: readonly ApplicationKey[],
    deadline: number,
  ): Promise<Result<{ row: WorkerRow; warm: boolean }, JobMgrError>> {
    for (let round = 0; ; round += 1) {
      if (this.closed || this.draining)
        return jobFail('POOL_CLOSED', 'the pool closed while the request waited');
      const row = this.store.claimFree(appId, keys, this.now());
      if (row !== undefined) {
        this.fill();
        return ok({ row, warm: round === 0 });
      }
      const waited = this.waiters.wait(deadline, this.now(), round > 0);
      this.fill();
      const outcome = await waited;
      if (outcome === 'closed') return jobFail('POOL_CLOSED', 'the pool closed while the request waited');
      if (outcome === 'deadline') {
        const total = this.store.total();
        return jobFail(
          'POOL_EXHAUSTED',
          `no prepared worker became free in time (${total} of max_vms ${this.settings.maxVms} workers exist)`,
        );
      }
    }
  }

  async release(
    appId: string,
    jobId: string,
  ): Promise<Result<{ app: string; job: string; jobs: number }, JobMgrError>> {
    return this.tasks.track(
      this.lock.run(appId, async () => {
        const app = this.store.app(appId);
        if (app === undefined) return jobFail('APP_NOT_FOUND', `no application ${appId} holds a worker here`);
        if (!this.store.removeJob(appId, jobId, this.now()))
          return jobFail('JOB_NOT_FOUND', `${appId} has no job ${jobId}`);
        return ok({ app: appId, job: jobId, jobs: app.jobs.length - 1 });
      }),
    );
  }

  /** Ends an application: its keys go, its worker is reverted (or destroyed) and returns to the pool. */
  async end(
    appId: string,
  ): Promise<Result<{ app: string; worker: string; outcome: 'reverted' | 'destroyed' }, JobMgrError>> {
    return this.tasks.track(this.lock.run(appId, () => this.endLocked(appId)));
  }

  private async endLocked(
    appId: string,
  ): Promise<Result<{ app: string; worker: string; outcome: 'reverted' | 'destroyed' }, JobMgrError>> {
    const worker = this.store.beginEnd(appId, this.now());
    if (worker === undefined) return jobFail('APP_NOT_FOUND', `no application ${appId} holds a worker here`);
    const mode = this.endMode();
    const retired = await this.ops.retire(worker, appId, mode);
    this.fill();
    if (!retired.ok && this.store.worker(worker) !== undefined)
      return jobFail(
        'LIFECYCLE_FAILED',
        `${worker} could neither be reverted nor destroyed; it is kept failed and retried`,
      );
    this.log.info('application ended', { app: appId, worker });
    return ok({ app: appId, worker, outcome: retired.ok && mode === 'revert' ? 'reverted' : 'destroyed' });
  }

  private endMode(): 'revert' | 'destroy' {
    return this.draining ? 'destroy' : this.settings.onAppEnd;
  }

  private async assignment(row: WorkerRow, app: string, job: string, warm: boolean): Promise<Assignment> {
    const hostKeys = await currentHostKeys(this.lifecycle, this.store, row, this.log);
    return { app, job, worker: row.name, ssh: row.ssh, hostKeys, warm };
  }

  /** Starts the clones that are missing; returns how many. */
  fill(): number {
    if (this.closed || this.draining) return 0;
    return this.supply.fill(this.waiters.length);
  }

  /** Reopens a drained pool and fills it. */
  reopen(): number {
    if (this.closed) return 0;
    this.draining = false;
    return this.fill();
  }

  /** No new applications; free workers are destroyed, applications keep theirs (destroyed when they end). */
  async drain(): Promise<number> {
    this.draining = true;
    this.waiters.closeAll();
    const free = this.store.workers().filter((w) => w.state === 'ready');
    for (const w of free) this.store.markFailed(w.name, 'drained', this.now());
    await Promise.all(free.map((w) => this.tasks.track(this.ops.destroy(w.name, 'the pool is draining'))));
    return free.length;
  }

  private maintain(): void {
    if (this.closed) return;
    if (this.settings.idleTimeoutSeconds > 0)
      for (const appId of this.store.idleApps(this.now() - this.settings.idleTimeoutSeconds * 1000)) {
        this.log.info('application idle past idle_timeout: ending it', { app: appId });
        void this.end(appId);
      }
    for (const w of this.store.workers())
      if (w.state === 'failed' && this.now() - w.stateSince >= this.maintenanceMs)
        void this.tasks.track(this.ops.destroy(w.name, 'retrying the destroy of a failed worker'));
    this.fill();
  }

  status(): PoolStatus {
    const workers = this.store.countByState();
    return {
      settings: this.settings,
      workers,
      total: Object.values(workers).reduce((a, b) => a + b, 0),
      free: this.store.freeCount(),
      apps: this.store.apps().length,
      waiting: this.waiters.length,
      draining: this.draining,
      closed: this.closed,
      buildFailures: this.supply.consecutiveFailures,
    };
  }

  /**
   * Graceful stop: no new work, waiting reserves are refused, operations in flight finish (up to
   * `graceMs`, then they are aborted and reconcile finishes them at the next start). VMs keep
   * running: their assignments are in the state database.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.closed = true;
    if (this.maintenance !== undefined) clearInterval(this.maintenance);
    this.supply.stop();
    this.waiters.closeAll();
    if (!(await this.tasks.settle(graceMs))) {
      this.log.warn('operations still running at the end of the grace period: aborting them', { graceMs });
      this.abort.abort();
      await this.tasks.settle(graceMs);
    }
  }
}

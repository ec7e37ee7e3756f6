import type { Logger } from '../common/logger.js';
import { ok, type Result } from '../common/result.js';
import { jobFail, type JobMgrError } from './errors.js';
import type { WorkerLifecycle } from './lifecycle.js';
import type { PoolSettings } from './settings.js';
import type { WorkerRow } from './state/rows.js';
import type { PoolStore } from './state/store.js';
import type { WorkerOps } from './worker-ops.js';

export interface ReconcileDeps {
  readonly store: PoolStore;
  readonly lifecycle: WorkerLifecycle;
  readonly ops: WorkerOps;
  readonly settings: PoolSettings;
  readonly log: Logger;
  readonly now: () => number;
  /** Runs `work` in the background, tracked for a graceful shutdown. */
  readonly track: (work: Promise<unknown>) => void;
  /** Runs `work` under the application's lock (a retried reserve waits for the rollback). */
  readonly locked: (appId: string, work: () => Promise<unknown>) => Promise<unknown>;
}

/** What the start-up reconcile did, for the log and `psm pool status`. */
export interface ReconcileReport {
  /** Rows whose VM runs as recorded: kept as they are (reserved ones keep their application). */
  readonly kept: string[];
  /** Half-prepared (or stopped) workers being booted and prepared again. */
  readonly resumed: string[];
  /** Reserves a crash cut off before their keys were in: the worker is reverted, the reserve can be retried. */
  readonly rolledBack: string[];
  /** VMs destroyed: unknown ones named like the pool's, half-made clones, failed workers. */
  readonly destroyed: string[];
  /** Rows whose VM no longer exists: removed (an application on one must reserve again). */
  readonly forgotten: string[];
  /** VMs in the directory that are not the pool's (made by `psm vm clone`): left alone. */
  readonly foreign: string[];
}

/** A name the pool made: its prefix and a number. */
export function isPoolName(name: string, prefix: string): boolean {
  return name.startsWith(prefix) && /^[1-9][0-9]{0,15}$/.test(name.slice(prefix.length));
}

/**
 * Makes the state and the hypervisor agree before the daemon serves anyone (issue 13 item 3):
 * no VM is left that no row accounts for, no row is left whose VM is gone, every interrupted
 * transition is resumed or rolled back. Destroys of unknown VMs are awaited (so max_vms counts
 * right from the first request); slow resumptions run in the background under their locks.
 */
export async function reconcile(d: ReconcileDeps): Promise<Result<ReconcileReport, JobMgrError>> {
  const listed = await d.ops.call('list', '-', () => d.lifecycle.list());
  if (!listed.ok)
    return jobFail(
      'LIFECYCLE_FAILED',
      `cannot list the workers: ${listed.error.code}: ${listed.error.message}`,
    );
  const report: ReconcileReport = {
    kept: [],
    resumed: [],
    rolledBack: [],
    destroyed: [],
    forgotten: [],
    foreign: [],
  };
  const rows = d.store.workers();
  const known = new Set(rows.map((r) => r.name));
  const running = new Map(listed.value.map((w) => [w.name, w.running]));
  for (const vm of listed.value) {
    if (known.has(vm.name)) continue;
    if (!isPoolName(vm.name, d.settings.namePrefix)) {
      report.foreign.push(vm.name);
      continue;
    }
    // Named like the pool's but in no row (a wiped or restored database): nobody can vouch for it.
    const gone = await d.ops.call('destroy', vm.name, () => d.lifecycle.destroy(vm.name));
    if (gone.ok) report.destroyed.push(vm.name);
  }
  for (const row of rows) await settleRow(d, row, running.get(row.name), report);
  d.log.info('reconciled the pool with the hypervisor', { ...report });
  return ok(report);
}

async function settleRow(
  d: ReconcileDeps,
  row: WorkerRow,
  running: boolean | undefined,
  report: ReconcileReport,
): Promise<void> {
  const { name } = row;
  if (running === undefined && row.state !== 'failed') {
    if (row.app !== undefined)
      d.log.warn('the worker of an application is gone', { worker: name, app: row.app });
    d.store.removeWorker(name);
    report.forgotten.push(name);
    return;
  }
  switch (row.state) {
    case 'cloning':
    case 'failed':
      // A half-made clone cannot be trusted to be whole; a failed worker was on its way out.
      if ((await d.ops.destroy(name, `reconcile: it was ${row.state}`)).ok) report.destroyed.push(name);
      return;
    case 'booting':
    case 'preparing':
    case 'ready':
      if (row.state === 'ready' && running === true) {
        report.kept.push(name);
        return;
      }
      d.store.transition(name, [row.state], 'booting', d.now());
      d.track(d.ops.bootAndPrepare(name));
      report.resumed.push(name);
      return;
    case 'reserved':
      return settleReserved(d, row, running === true, report);
    case 'reverting':
      d.track(d.locked(row.app ?? name, () => d.ops.retire(name, row.app, d.settings.onAppEnd)));
      report.resumed.push(name);
      return;
  }
}

async function settleReserved(
  d: ReconcileDeps,
  row: WorkerRow,
  running: boolean,
  report: ReconcileReport,
): Promise<void> {
  const appId = row.app;
  if (appId === undefined) throw new Error(`${row.name} is reserved for no application`);
  const app = d.store.app(appId);
  if (app?.phase === 'granting') {
    d.store.beginEnd(appId, d.now());
    d.track(d.locked(appId, () => d.ops.retire(row.name, appId, d.settings.onAppEnd)));
    report.rolledBack.push(row.name);
    return;
  }
  if (running) {
    report.kept.push(row.name);
    return;
  }
  // Stopped under its application (a host reboot): powered on again, its files and keys are on its disk.
  d.track(
    d.locked(appId, async () => {
      const booted = await d.ops.call('boot', row.name, () => d.lifecycle.boot(row.name));
      if (!booted.ok) await d.ops.discard(row.name, booted.error);
    }),
  );
  report.resumed.push(row.name);
}

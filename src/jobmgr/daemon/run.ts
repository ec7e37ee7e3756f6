import type { AuditLog } from '../../psm/audit-log/index.js';
import type { Server } from 'node:http';
import { mkdir, unlink } from 'node:fs/promises';
import { acquirePidLock, type HeldLock } from '../../common/pid-lock.js';
import type { Logger } from '../../common/logger.js';
import { err, ok, type Result } from '../../common/result.js';
import type { JobMgrError } from '../errors.js';
import type { WorkerLifecycle } from '../lifecycle.js';
import { Pool } from '../pool.js';
import type { ReconcileReport } from '../reconcile.js';
import type { PoolSettings } from '../settings.js';
import { PoolStore } from '../state/store.js';
import type { DaemonError } from './errors.js';
import { createDaemonLogger } from './log.js';
import { DaemonMetrics } from './metrics.js';
import { daemonPaths, type DaemonPaths } from './paths.js';
import { createDaemonServer } from './server.js';
import { listenOnSocket } from './socket.js';

export interface DaemonOptions {
  readonly location: string;
  readonly settings: PoolSettings;
  readonly lifecycle: WorkerLifecycle;
  /** The socket's group (a gid); default: the daemon's own. */
  readonly socketGid?: number;
  readonly log?: Logger;
  /** How long a shutdown lets in-flight operations finish before aborting them (ms). */
  readonly graceMs?: number;
  readonly maintenanceMs?: number;
  /** The audit log the trust steps write to (run-main requests are recorded in it too). */
  readonly audit?: AuditLog;
}

export interface RunningDaemon {
  readonly paths: DaemonPaths;
  readonly pool: Pool;
  readonly server: Server;
  readonly reconciled: ReconcileReport;
  /** Graceful stop: no new connections, in-flight requests and operations finish, state closed. */
  stop(): Promise<void>;
}

/**
 * `psm daemon`: takes the location's pid lock (two daemons never share one), opens the state,
 * reconciles it with the hypervisor, then serves the socket. The workers are not stopped when
 * the daemon stops: the next daemon finds them, and their assignments, in the state.
 */
export async function startDaemon(
  options: DaemonOptions,
): Promise<Result<RunningDaemon, DaemonError | JobMgrError>> {
  const paths = daemonPaths(options.location);
  const log = options.log ?? createDaemonLogger();
  try {
    await mkdir(paths.dir, { recursive: true, mode: 0o750 });
  } catch {
    return err({ code: 'SOCKET_IO', message: `cannot create ${paths.dir}` });
  }
  const lock = await acquirePidLock(paths.lock);
  if (!lock.ok)
    return err(
      lock.error.code === 'LOCK_BUSY'
        ? {
            code: 'DAEMON_RUNNING',
            message: `a psm daemon (pid ${lock.error.holder ?? '?'}) already serves ${options.location}`,
          }
        : { code: 'SOCKET_IO', message: lock.error.message },
    );
  const started = await startLocked(options, paths, log, lock.value);
  if (!started.ok) await lock.value.release();
  return started;
}

async function startLocked(
  options: DaemonOptions,
  paths: DaemonPaths,
  log: Logger,
  lock: HeldLock,
): Promise<Result<RunningDaemon, DaemonError | JobMgrError>> {
  const store = PoolStore.open(paths.database, options.settings.namePrefix);
  if (!store.ok) return store;
  // The metrics observe the pool and the pool reports to the metrics: the pool is read at scrape time.
  const made: { pool?: Pool } = {};
  const metrics = new DaemonMetrics(() => made.pool);
  const pool = new Pool({
    store: store.value,
    lifecycle: options.lifecycle,
    settings: options.settings,
    log,
    observer: metrics,
    ...(options.maintenanceMs === undefined ? {} : { maintenanceMs: options.maintenanceMs }),
  });
  made.pool = pool;
  const reconciled = await pool.start();
  if (!reconciled.ok) {
    await pool.close(0);
    store.value.close();
    return reconciled;
  }
  const server = createDaemonServer({
    pool,
    metrics,
    log,
    ...(options.audit === undefined ? {} : { audit: options.audit }),
  });
  const listening = await listenOnSocket(server, paths.socket, options.socketGid);
  if (!listening.ok) {
    await pool.close(options.graceMs);
    store.value.close();
    return listening;
  }
  log.info('psm daemon listening', { socket: paths.socket, settings: options.settings });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      log.info('psm daemon stopping: finishing operations in flight');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await pool.close(options.graceMs);
      // Answers of the requests just finished are written; connections close after them.
      server.closeIdleConnections();
      const late = setTimeout(() => server.closeAllConnections(), 2_000);
      await closed;
      clearTimeout(late);
      store.value.close();
      await unlink(paths.socket).catch(() => undefined);
      await lock.release();
      log.info('psm daemon stopped');
    })());
  return ok({ paths, pool, server, reconciled: reconciled.value, stop });
}

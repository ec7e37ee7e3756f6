import { ok, type Result } from '../../common/result.js';
import type { JobMgrError } from '../errors.js';
import { MAX_ERROR_TEXT } from '../limits.js';
import {
  appOf,
  workerOf,
  type AppRow,
  type ApplicationKey,
  type PreparedWorker,
  type RawApp,
  type RawWorker,
  type WorkerRow,
} from './rows.js';
import { openStateDb, WORKER_STATES, type StateDb, type WorkerState } from './schema.js';

const WORKER_SELECT = `SELECT w.*, a.app_id FROM workers w LEFT JOIN apps a ON a.worker = w.name`;
const APP_SELECT = `SELECT a.*, (SELECT json_group_array(job_id) FROM (SELECT job_id FROM jobs j
  WHERE j.app_id = a.app_id ORDER BY since, job_id)) AS jobs FROM apps a`;

/**
 * Every change of the pool's state, each one SQLite transaction (better-sqlite3 is synchronous,
 * so a transition also never interleaves with another request of this process). Methods that
 * move a worker name the states it may come from and report whether it was there: the pool
 * never assumes a state it did not just see.
 */
export class PoolStore {
  private constructor(
    private readonly db: StateDb,
    private readonly namePrefix: string,
  ) {}

  static open(file: string, namePrefix: string): Result<PoolStore, JobMgrError> {
    const db = openStateDb(file);
    return db.ok ? ok(new PoolStore(db.value, namePrefix)) : db;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** A new worker row in `cloning`, before the clone exists: a crash after it leaves a row to reconcile, never an unknown VM. */
  addWorker(now: number): string {
    return this.db
      .transaction(() => {
        const seq = (
          this.db.prepare(`SELECT value FROM meta WHERE key = 'next_worker'`).get() as { value: number }
        ).value;
        this.db.prepare(`UPDATE meta SET value = value + 1 WHERE key = 'next_worker'`).run();
        const name = `${this.namePrefix}${seq}`;
        this.db
          .prepare(`INSERT INTO workers (name, state, created_at, state_since) VALUES (?, 'cloning', ?, ?)`)
          .run(name, now, now);
        return name;
      })
      .immediate();
  }

  /** Moves `name` to `to` if it is in one of `from`; false when it was not. */
  transition(name: string, from: readonly WorkerState[], to: WorkerState, now: number): boolean {
    const marks = from.map(() => '?').join(', ');
    const changed = this.db
      .prepare(`UPDATE workers SET state = ?, state_since = ? WHERE name = ? AND state IN (${marks})`)
      .run(to, now, name, ...from).changes;
    return changed === 1;
  }

  /** preparing -> ready, with where the worker is reachable and its pinned host keys. */
  markPrepared(name: string, prepared: PreparedWorker, now: number): boolean {
    return (
      this.db
        .prepare(
          `UPDATE workers SET state = 'ready', state_since = ?, ssh_host = ?, ssh_port = ?, host_keys = ?,
           last_error = NULL WHERE name = ? AND state = 'preparing'`,
        )
        .run(now, prepared.ssh.host, prepared.ssh.port, JSON.stringify(prepared.hostKeys), name).changes === 1
    );
  }

  /** The worker's pinned host keys changed after it was prepared (psm rotate-keys --host-keys). */
  setHostKeys(name: string, hostKeys: readonly string[]): void {
    this.db.prepare(`UPDATE workers SET host_keys = ? WHERE name = ?`).run(JSON.stringify(hostKeys), name);
  }

  /** The longest-ready free worker becomes `reserved` for a new application in `granting`. */
  claimFree(appId: string, keys: readonly ApplicationKey[], now: number): WorkerRow | undefined {
    return this.db
      .transaction(() => {
        const free = this.db
          .prepare(`SELECT name FROM workers WHERE state = 'ready' ORDER BY state_since, name LIMIT 1`)
          .get() as { name: string } | undefined;
        if (free === undefined) return undefined;
        this.db
          .prepare(`UPDATE workers SET state = 'reserved', state_since = ? WHERE name = ?`)
          .run(now, free.name);
        this.db
          .prepare(
            `INSERT INTO apps (app_id, worker, phase, keys, created_at, last_active) VALUES (?, ?, 'granting', ?, ?, ?)`,
          )
          .run(appId, free.name, JSON.stringify(keys), now, now);
        return this.worker(free.name);
      })
      .immediate();
  }

  /** The keys are on the worker: the application is active and holds `jobId`. */
  activate(appId: string, jobId: string, keys: readonly ApplicationKey[], now: number): void {
    this.db
      .transaction(() => {
        this.db
          .prepare(`UPDATE apps SET phase = 'active', keys = ?, last_active = ? WHERE app_id = ?`)
          .run(JSON.stringify(keys), now, appId);
        this.db
          .prepare(`INSERT INTO jobs (app_id, job_id, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
          .run(appId, jobId, now);
      })
      .immediate();
  }

  /** Drops one job; false when the application had no such job. */
  removeJob(appId: string, jobId: string, now: number): boolean {
    return this.db
      .transaction(() => {
        const gone = this.db
          .prepare(`DELETE FROM jobs WHERE app_id = ? AND job_id = ?`)
          .run(appId, jobId).changes;
        if (gone === 1) this.db.prepare(`UPDATE apps SET last_active = ? WHERE app_id = ?`).run(now, appId);
        return gone === 1;
      })
      .immediate();
  }

  /** The application ends (or a grant is rolled back): its worker starts reverting, the row stays until it is clean. */
  beginEnd(appId: string, now: number): string | undefined {
    return this.db
      .transaction(() => {
        const app = this.app(appId);
        if (app === undefined) return undefined;
        this.db.prepare(`UPDATE apps SET phase = 'ending' WHERE app_id = ?`).run(appId);
        this.db
          .prepare(
            `UPDATE workers SET state = 'reverting', state_since = ? WHERE name = ? AND state = 'reserved'`,
          )
          .run(now, app.worker);
        return app.worker;
      })
      .immediate();
  }

  /** Reverted to its clean snapshot: the application's row goes and the worker is free again. */
  finishRevert(name: string, now: number): boolean {
    return this.db
      .transaction(() => {
        this.db.prepare(`DELETE FROM apps WHERE worker = ?`).run(name);
        return (
          this.db
            .prepare(
              `UPDATE workers SET state = 'ready', state_since = ?, reverts = reverts + 1 WHERE name = ? AND state = 'reverting'`,
            )
            .run(now, name).changes === 1
        );
      })
      .immediate();
  }

  /** The worker is broken: `failed`, any application it served loses it (it must reserve again). */
  markFailed(name: string, reason: string, now: number): void {
    this.db
      .transaction(() => {
        this.db.prepare(`DELETE FROM apps WHERE worker = ?`).run(name);
        this.db
          .prepare(`UPDATE workers SET state = 'failed', state_since = ?, last_error = ? WHERE name = ?`)
          .run(now, reason.slice(0, MAX_ERROR_TEXT), name);
      })
      .immediate();
  }

  /** The VM is destroyed: its row (and any application row naming it) goes. */
  removeWorker(name: string): void {
    this.db
      .transaction(() => {
        this.db.prepare(`DELETE FROM apps WHERE worker = ?`).run(name);
        this.db.prepare(`DELETE FROM workers WHERE name = ?`).run(name);
      })
      .immediate();
  }

  /** A request of the application: it is not idle. */
  touchApp(appId: string, now: number): void {
    this.db.prepare(`UPDATE apps SET last_active = ? WHERE app_id = ?`).run(now, appId);
  }

  worker(name: string): WorkerRow | undefined {
    const raw = this.db.prepare(`${WORKER_SELECT} WHERE w.name = ?`).get(name) as RawWorker | undefined;
    return raw === undefined ? undefined : workerOf(raw);
  }

  workers(): WorkerRow[] {
    return (this.db.prepare(`${WORKER_SELECT} ORDER BY w.created_at, w.name`).all() as RawWorker[]).map(
      workerOf,
    );
  }

  app(appId: string): AppRow | undefined {
    const raw = this.db.prepare(`${APP_SELECT} WHERE a.app_id = ?`).get(appId) as RawApp | undefined;
    return raw === undefined ? undefined : appOf(raw);
  }

  apps(): AppRow[] {
    return (this.db.prepare(`${APP_SELECT} ORDER BY a.created_at, a.app_id`).all() as RawApp[]).map(appOf);
  }

  /** Active applications with no job whose last request is older than `cutoff`. */
  idleApps(cutoff: number): string[] {
    const rows = this.db
      .prepare(
        `SELECT app_id FROM apps a WHERE phase = 'active' AND last_active < ?
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.app_id = a.app_id) ORDER BY last_active`,
      )
      .all(cutoff) as { app_id: string }[];
    return rows.map((r) => r.app_id);
  }

  countByState(): Record<WorkerState, number> {
    const counts = Object.fromEntries(WORKER_STATES.map((s) => [s, 0])) as Record<WorkerState, number>;
    const rows = this.db.prepare(`SELECT state, COUNT(*) AS n FROM workers GROUP BY state`).all() as {
      state: WorkerState;
      n: number;
    }[];
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  /** The free count, derived from the rows: prepared workers no application holds. */
  freeCount(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM workers WHERE state = 'ready'`).get() as { n: number })
      .n;
  }

  total(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM workers`).get() as { n: number }).n;
  }

  /** Broken invariants, in words (empty when all hold); for /healthz and the tests. */
  checkInvariants(): string[] {
    const problems: string[] = [];
    for (const w of this.workers()) {
      if (w.state === 'reserved' && w.app === undefined)
        problems.push(`${w.name} is reserved for no application`);
      if (['cloning', 'booting', 'preparing', 'ready'].includes(w.state) && w.app !== undefined)
        problems.push(`${w.name} is ${w.state} but serves ${w.app}`);
    }
    for (const a of this.apps()) {
      const w = this.worker(a.worker);
      if (w === undefined) problems.push(`${a.appId} names the missing worker ${a.worker}`);
      else if (a.phase !== 'ending' && w.state !== 'reserved')
        problems.push(`${a.appId} is ${a.phase} but ${a.worker} is ${w.state}`);
    }
    return problems;
  }
}

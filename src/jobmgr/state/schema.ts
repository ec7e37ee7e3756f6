import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ok, type Result } from '../../common/result.js';
import { jobFail, type JobMgrError } from '../errors.js';

/**
 * The job manager's state: one SQLite database (`$POPC_LOCATION/var/psm/jobmgr.db`) in WAL mode
 * with synchronous=FULL, so a committed transition survives a crash of the daemon or the host.
 * Every worker transition is one transaction (src/jobmgr/state/store.ts).
 *
 * The constraints carry the pool's invariants, so a bug cannot write a state that breaks them:
 * - `apps.worker` is UNIQUE: no worker ever serves two applications;
 * - `apps.app_id` is the key: an application has one worker on this node;
 * - a worker is `reserved` only while an application row names it (checked by the store and by
 *   checkInvariants), and `ready` workers are the free ones: the free count is a COUNT, never a
 *   counter kept beside the rows.
 */
export const SCHEMA_VERSION = 1;

export const WORKER_STATES = [
  'cloning',
  'booting',
  'preparing',
  'ready',
  'reserved',
  'reverting',
  'failed',
] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

export const APP_PHASES = ['granting', 'active', 'ending'] as const;
export type AppPhase = (typeof APP_PHASES)[number];

const quoted = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

const DDL = `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('next_worker', 1);
CREATE TABLE workers (
  name TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN (${quoted(WORKER_STATES)})),
  ssh_host TEXT,
  ssh_port INTEGER CHECK (ssh_port IS NULL OR ssh_port BETWEEN 1 AND 65535),
  host_keys TEXT NOT NULL DEFAULT '[]',
  reverts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  state_since INTEGER NOT NULL,
  last_error TEXT
) STRICT;
CREATE TABLE apps (
  app_id TEXT PRIMARY KEY,
  worker TEXT NOT NULL UNIQUE REFERENCES workers(name),
  phase TEXT NOT NULL CHECK (phase IN (${quoted(APP_PHASES)})),
  keys TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_active INTEGER NOT NULL
) STRICT;
CREATE TABLE jobs (
  app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
  job_id TEXT NOT NULL,
  since INTEGER NOT NULL,
  PRIMARY KEY (app_id, job_id)
) STRICT;
CREATE INDEX workers_by_state ON workers (state, state_since);
`;

export type StateDb = Database.Database;

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
}

/** Opens (creating when missing) the state database and brings its schema to SCHEMA_VERSION. */
export function openStateDb(file: string): Result<StateDb, JobMgrError> {
  let db: StateDb;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    db = new Database(file, { timeout: 5_000 });
  } catch (error) {
    return jobFail('STATE_IO', `cannot open the state database (${reasonOf(error)})`, file);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      db.close();
      return jobFail(
        'STATE_INVALID',
        `the state database has schema ${version}; this psm knows ${SCHEMA_VERSION}`,
        file,
      );
    }
    if (version === 0)
      db.transaction(() => {
        db.exec(DDL);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    return ok(db);
  } catch (error) {
    db.close();
    return jobFail('STATE_IO', `cannot prepare the state database (${reasonOf(error)})`, file);
  }
}

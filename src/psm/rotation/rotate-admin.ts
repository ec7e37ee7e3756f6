import { AUDIT_ACTIONS } from '../audit-log/actions.js';
import { randomBytes } from 'node:crypto';
import { ok, type Result } from '../../common/result.js';
import type { GuestOpsDriver, OpOptions } from '../../guest-ops/guest-ops.js';
import type { KeyExchangeSettings } from '../key-exchange/index.js';
import {
  adminKeyPaths,
  dropPrevious,
  makeNextPair,
  readPair,
  switchActive,
  type HeldKey,
} from './admin-key-files.js';
import { rotationError, type RotationError, type RotationErrorCode } from './errors.js';
import {
  readJournal,
  removeJournal,
  writeJournal,
  type RotationJournal,
  type WorkerStep,
} from './journal.js';
import { withRotationLock } from './rotation-lock.js';
import { inPool, preparedWorkers } from './scope.js';
import { addNewKey, removeOldKey, type StepContext } from './worker-steps.js';

export interface RotateAdminOptions {
  readonly settings: KeyExchangeSettings;
  readonly driver: GuestOpsDriver;
  /** Work on these workers in this run (default: all). The switch and the end wait for every worker. */
  readonly workers?: readonly string[];
  readonly concurrency?: number;
  readonly dryRun?: boolean;
  readonly ops?: OpOptions;
  /** Called once the run knows its workers (for a progress bar). */
  readonly onStart?: (workers: readonly string[]) => void;
  readonly onStep?: (worker: string, step: WorkerStep | 'failed', message?: string) => void;
}

export interface RotationReport {
  readonly id: string;
  /** `done`: every worker holds only the new key; else where the next run resumes. */
  readonly phase: 'adding' | 'removing' | 'done';
  readonly dryRun: boolean;
  readonly oldFingerprint: string;
  readonly newFingerprint: string;
  readonly workers: Readonly<Record<string, WorkerStep>>;
  readonly failed: readonly { worker: string; code: RotationErrorCode; message: string }[];
  readonly logins: number;
}

export const DEFAULT_CONCURRENCY = 2;

/**
 * `psm rotate-keys --admin`: two phases with a journal fsync'd after every step, so a kill at
 * any moment leaves every worker accepting a key psm holds, and a rerun resumes. Phase 1 adds the
 * new key beside the old one on every worker and proves it with a login; only when every worker
 * is done does psm switch its active key; phase 2 removes the old key and proves it refused. The
 * old private key is dropped after the last worker.
 */
export async function rotateAdminKey(
  options: RotateAdminOptions,
): Promise<Result<RotationReport, RotationError>> {
  return withRotationLock(options.settings.location, () => rotateLocked(options));
}

async function begin(options: RotateAdminOptions): Promise<Result<RotationJournal, RotationError>> {
  const { location } = options.settings;
  const paths = adminKeyPaths(location);
  const active = await readPair(paths.active);
  if (!active.ok) return active;
  if (active.value === null)
    return rotationError('ROTATE_NOTHING', `${paths.active} does not exist (run psm init)`);
  const scope = await preparedWorkers(location);
  if (!scope.ok) return scope;
  if (scope.value.length === 0)
    return rotationError('ROTATE_NOTHING', 'no prepared worker holds an admin key');
  let newFingerprint = '(made when the rotation starts)';
  if (options.dryRun !== true) {
    const next = await makeNextPair(paths, 'psm-admin');
    if (!next.ok) return next;
    newFingerprint = next.value.key.fingerprint;
  }
  return ok({
    id: randomBytes(8).toString('hex'),
    startedAt: new Date().toISOString(),
    phase: 'adding',
    oldFingerprint: active.value.key.fingerprint,
    newFingerprint,
    workers: Object.fromEntries(scope.value.map((name) => [name, 'pending' as const])),
  });
}

/** The pair with this fingerprint among the active, next and previous files (whichever a crash left it in). */
async function held(location: string, fingerprint: string): Promise<Result<HeldKey, RotationError>> {
  const paths = adminKeyPaths(location);
  for (const file of [paths.active, paths.next, paths.prev]) {
    const pair = await readPair(file);
    if (!pair.ok) return pair;
    if (pair.value?.key.fingerprint === fingerprint) return ok(pair.value);
  }
  return rotationError(
    'ROTATE_JOURNAL_INVALID',
    `psm holds no private key ${fingerprint} named by the journal`,
  );
}

async function rotateLocked(options: RotateAdminOptions): Promise<Result<RotationReport, RotationError>> {
  const { location } = options.settings;
  const existing = await readJournal(location);
  if (!existing.ok) return existing;
  const started = existing.value === null ? await begin(options) : ok(existing.value);
  if (!started.ok) return started;
  let journal = started.value;
  const unknown = (options.workers ?? []).find((name) => journal.workers[name] === undefined);
  if (unknown !== undefined)
    return rotationError('ROTATE_UNKNOWN_WORKER', `${unknown} is not a prepared worker of this rotation`);
  let logins = 0;
  const failed: { worker: string; code: RotationErrorCode; message: string }[] = [];
  const report = (phase: RotationReport['phase']): RotationReport => ({
    id: journal.id,
    phase,
    dryRun: options.dryRun === true,
    oldFingerprint: journal.oldFingerprint,
    newFingerprint: journal.newFingerprint,
    workers: journal.workers,
    failed,
    logins,
  });
  if (options.dryRun === true) return ok(report(journal.phase));
  if (existing.value === null) {
    const written = await writeJournal(location, journal);
    if (!written.ok) return written;
    const logged = await record(options, AUDIT_ACTIONS.rotateStart, journal, {});
    if (!logged.ok) return logged;
  }
  // Where each key is: the switch moves them (next -> active -> prev), so they are found again after it.
  let old = await held(location, journal.oldFingerprint);
  if (!old.ok) return old;
  let next = await held(location, journal.newFingerprint);
  if (!next.ok) return next;
  options.onStart?.(options.workers ?? Object.keys(journal.workers));
  const ctx: StepContext = {
    settings: options.settings,
    driver: options.driver,
    ops: options.ops ?? {},
    countLogin: () => (logins += 1),
  };
  // Journal updates from concurrent workers are written one after the other, each whole.
  let writing: Promise<Result<void, RotationError>> = Promise.resolve(ok(undefined));
  const mark = (name: string, step: WorkerStep): Promise<Result<void, RotationError>> => {
    journal = { ...journal, workers: { ...journal.workers, [name]: step } };
    const snapshot = journal;
    writing = writing.then(() => writeJournal(location, snapshot));
    return writing;
  };
  const phase = async (
    from: WorkerStep,
    to: WorkerStep,
    step: typeof addNewKey,
  ): Promise<Result<void, RotationError>> => {
    const wanted = new Set(options.workers ?? Object.keys(journal.workers));
    const targets = Object.entries(journal.workers)
      .filter(([name, s]) => s === from && wanted.has(name))
      .map(([name]) => name);
    let ioFailure: Result<void, RotationError> = ok(undefined);
    await inPool(targets, options.concurrency ?? DEFAULT_CONCURRENCY, async (name) => {
      if (!old.ok || !next.ok) throw new Error('bug: keys not found before a phase');
      const done = await step(ctx, name, old.value, next.value);
      if (!done.ok) {
        failed.push({ worker: name, code: done.error.code, message: done.error.message });
        options.onStep?.(name, 'failed', done.error.message);
        return;
      }
      const marked = await mark(name, to);
      if (!marked.ok) ioFailure = marked;
      options.onStep?.(name, to);
    });
    return ioFailure;
  };
  if (journal.phase === 'adding') {
    const added = await phase('pending', 'added', addNewKey);
    if (!added.ok) return added;
    if (Object.values(journal.workers).some((s) => s === 'pending')) return ok(report('adding'));
    const switched = await switchActive(adminKeyPaths(location), journal.oldFingerprint);
    if (!switched.ok) return switched;
    journal = { ...journal, phase: 'removing' };
    const written = await writeJournal(location, journal);
    if (!written.ok) return written;
    const logged = await record(options, AUDIT_ACTIONS.rotateSwitch, journal, {});
    if (!logged.ok) return logged;
    old = await held(location, journal.oldFingerprint);
    if (!old.ok) return old;
    next = await held(location, journal.newFingerprint);
    if (!next.ok) return next;
  }
  const removed = await phase('added', 'removed', removeOldKey);
  if (!removed.ok) return removed;
  if (Object.values(journal.workers).some((s) => s !== 'removed')) return ok(report('removing'));
  const dropped = await dropPrevious(adminKeyPaths(location));
  if (!dropped.ok) return dropped;
  const logged = await record(options, AUDIT_ACTIONS.rotateDone, journal, {});
  if (!logged.ok) return logged;
  const gone = await removeJournal(location);
  if (!gone.ok) return gone;
  return ok(report('done'));
}

async function record(
  options: RotateAdminOptions,
  action: string,
  journal: RotationJournal,
  extra: Record<string, string>,
): Promise<Result<void, RotationError>> {
  const logged = await options.settings.audit.append({
    action,
    subject: {
      rotation: journal.id,
      oldFingerprint: journal.oldFingerprint,
      newFingerprint: journal.newFingerprint,
      workers: Object.keys(journal.workers).slice(0, 64),
      ...extra,
    },
  });
  return logged.ok ? ok(undefined) : rotationError('ROTATE_NOT_RECORDED', logged.error.message);
}

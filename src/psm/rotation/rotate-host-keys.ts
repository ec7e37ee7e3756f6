import { randomBytes } from 'node:crypto';
import { ok, type Result } from '../../common/result.js';
import type { GuestOpsDriver, OpOptions } from '../../guest-ops/guest-ops.js';
import type { KeyExchangeSettings } from '../key-exchange/index.js';
import { rotationError, type RotationError, type RotationErrorCode } from './errors.js';
import {
  readHostKeyJournal,
  removeHostKeyJournal,
  writeHostKeyJournal,
  type HostKeyJournal,
  type HostKeyStep,
  type HostKeyWorkerState,
} from './host-key-journal.js';
import { advanceHostKeys } from './host-key-steps.js';
import { withRotationLock } from './rotation-lock.js';
import { inPool, preparedWorkers } from './scope.js';

export interface RotateHostKeysOptions {
  readonly settings: KeyExchangeSettings;
  readonly driver: GuestOpsDriver;
  readonly workers?: readonly string[];
  readonly concurrency?: number;
  readonly dryRun?: boolean;
  readonly hashKnownHosts?: boolean;
  readonly ops?: OpOptions;
  readonly onStep?: (worker: string, step: HostKeyStep | 'failed', message?: string) => void;
}

export interface HostKeyRotationReport {
  readonly id: string;
  readonly dryRun: boolean;
  readonly workers: Readonly<Record<string, HostKeyStep | 'pending'>>;
  readonly failed: readonly { worker: string; code: RotationErrorCode; message: string }[];
  readonly done: boolean;
}

/** `psm rotate-keys --host-keys`: every prepared worker gets new host keys, pinned before they are presented. */
export async function rotateHostKeys(
  options: RotateHostKeysOptions,
): Promise<Result<HostKeyRotationReport, RotationError>> {
  return withRotationLock(options.settings.location, () => rotateHostKeysLocked(options));
}

async function rotateHostKeysLocked(
  options: RotateHostKeysOptions,
): Promise<Result<HostKeyRotationReport, RotationError>> {
  const { location } = options.settings;
  const existing = await readHostKeyJournal(location);
  if (!existing.ok) return existing;
  const scope = await preparedWorkers(location);
  if (!scope.ok) return scope;
  let journal: HostKeyJournal = existing.value ?? { id: randomBytes(8).toString('hex'), workers: {} };
  const all =
    existing.value === null ? scope.value : [...new Set([...scope.value, ...Object.keys(journal.workers)])];
  if (all.length === 0) return rotationError('ROTATE_NOTHING', 'no prepared worker to rotate');
  const unknown = (options.workers ?? []).find((name) => !all.includes(name));
  if (unknown !== undefined)
    return rotationError('ROTATE_UNKNOWN_WORKER', `${unknown} is not a prepared worker`);
  const failed: { worker: string; code: RotationErrorCode; message: string }[] = [];
  const report = (): HostKeyRotationReport => ({
    id: journal.id,
    dryRun: options.dryRun === true,
    workers: Object.fromEntries(all.map((name) => [name, journal.workers[name]?.step ?? 'pending'])),
    failed,
    done: all.every((name) => journal.workers[name]?.step === 'done'),
  });
  if (options.dryRun === true) return ok(report());
  let writing: Promise<Result<void, RotationError>> = Promise.resolve(ok(undefined));
  const save =
    (name: string) =>
    (state: HostKeyWorkerState): Promise<Result<void, RotationError>> => {
      journal = { ...journal, workers: { ...journal.workers, [name]: state } };
      const snapshot = journal;
      writing = writing.then(() => writeHostKeyJournal(location, snapshot));
      options.onStep?.(name, state.step);
      return writing;
    };
  const wanted = new Set(options.workers ?? all);
  const targets = all.filter((name) => wanted.has(name) && journal.workers[name]?.step !== 'done');
  const ctx = {
    location,
    driver: options.driver,
    audit: options.settings.audit,
    ops: options.ops ?? {},
    hashNames: options.hashKnownHosts === true,
  };
  await inPool(targets, options.concurrency ?? 2, async (name) => {
    const done = await advanceHostKeys(ctx, name, journal.workers[name], save(name));
    if (!done.ok) {
      failed.push({ worker: name, code: done.error.code, message: done.error.message });
      options.onStep?.(name, 'failed', done.error.message);
    }
  });
  const written = await writing;
  if (!written.ok) return written;
  const final = report();
  if (final.done) {
    const gone = await removeHostKeyJournal(location);
    if (!gone.ok) return gone;
  }
  return ok(final);
}

import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../../common/atomic-write.js';
import { isJsonObject, readJsonRecordFile, serializeJsonRecord } from '../../common/json-record.js';
import { ok, type Result } from '../../common/result.js';
import { rotationError, type RotationError } from './errors.js';

/**
 * The admin key rotation's journal, `$POPC_LOCATION/var/psm/rotation.json`: replaced atomically
 * (temp file, fsync, rename, fsync of the directory) after every step, so after `kill -9` at any
 * moment the next run knows exactly which steps are done. Two phases: every worker gets the new
 * key beside the old one (proven by a login), psm switches its active key, then every worker
 * loses the old key (proven refused). The old private key is kept until the last worker is done.
 */
export const JOURNAL_FORMAT = 'psm-rotation/v1';
const SPEC = {
  format: JOURNAL_FORMAT,
  keys: ['format', 'id', 'startedAt', 'phase', 'oldFingerprint', 'newFingerprint', 'workers'],
  maxBytes: 1024 * 1024,
} as const;
const MAX_WORKERS = 10_000;
const WORKER_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** `adding`: new key going onto workers; `removing`: psm's active key is the new one, the old one is coming off. */
export type RotationPhase = 'adding' | 'removing';
/** Per worker: untouched, holds both keys (new one proven), holds only the new one (old one proven refused). */
export type WorkerStep = 'pending' | 'added' | 'removed';

export interface RotationJournal {
  readonly id: string;
  readonly startedAt: string;
  readonly phase: RotationPhase;
  readonly oldFingerprint: string;
  readonly newFingerprint: string;
  readonly workers: Readonly<Record<string, WorkerStep>>;
}

export function journalPath(location: string): string {
  return join(location, 'var', 'psm', 'rotation.json');
}

export async function readJournal(location: string): Promise<Result<RotationJournal | null, RotationError>> {
  const path = journalPath(location);
  const read = await readJsonRecordFile(path, SPEC);
  if (!read.ok) {
    if (read.error.code === 'RECORD_MISSING') return ok(null);
    if (read.error.code === 'RECORD_UNREADABLE')
      return rotationError('ROTATE_IO', `${path} ${read.error.message}`);
    return rotationError('ROTATE_JOURNAL_INVALID', `${path} ${read.error.message}`);
  }
  const v = read.value;
  const workers = v.workers;
  const valid =
    typeof v.id === 'string' &&
    /^[0-9a-f]{16}$/.test(v.id) &&
    typeof v.startedAt === 'string' &&
    (v.phase === 'adding' || v.phase === 'removing') &&
    typeof v.oldFingerprint === 'string' &&
    FINGERPRINT.test(v.oldFingerprint) &&
    typeof v.newFingerprint === 'string' &&
    FINGERPRINT.test(v.newFingerprint) &&
    isJsonObject(workers) &&
    Object.keys(workers).length <= MAX_WORKERS &&
    Object.entries(workers).every(
      ([name, step]) =>
        WORKER_NAME.test(name) && (step === 'pending' || step === 'added' || step === 'removed'),
    );
  if (!valid) return rotationError('ROTATE_JOURNAL_INVALID', `${path} is not a rotation journal psm wrote`);
  return ok(v as unknown as RotationJournal);
}

export async function writeJournal(
  location: string,
  journal: RotationJournal,
): Promise<Result<void, RotationError>> {
  try {
    await writeFileAtomic(
      journalPath(location),
      serializeJsonRecord({ format: JOURNAL_FORMAT, ...journal }, SPEC),
      {
        mode: 0o600,
      },
    );
    return ok(undefined);
  } catch (error) {
    return rotationError('ROTATE_IO', `cannot write the rotation journal: ${(error as Error).message}`);
  }
}

export async function removeJournal(location: string): Promise<Result<void, RotationError>> {
  try {
    await rm(journalPath(location), { force: true });
    await fsyncDirectory(dirname(journalPath(location)));
    return ok(undefined);
  } catch (error) {
    return rotationError('ROTATE_IO', `cannot remove the rotation journal: ${(error as Error).message}`);
  }
}

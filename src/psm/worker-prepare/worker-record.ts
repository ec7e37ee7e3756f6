import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { errnoOf } from '../../common/errno.js';
import {
  isJsonObject,
  readJsonRecordFile,
  serializeJsonRecord,
  type JsonRecordSpec,
} from '../../common/json-record.js';
import { assertNever, err, ok, type Result } from '../../common/result.js';
import { prepareError, type PrepareFailure } from './errors.js';

/**
 * `$POPC_LOCATION/var/psm/workers/NAME.json`: the record that a worker is prepared. It is written
 * (atomically) only after the clean snapshot is taken and removed before a prepare changes
 * anything, so "the record exists" means "this worker, reverted to its clean snapshot, presents
 * exactly these keys". Other parts of psm keep their own files next to it (NAME.*.json).
 */
export const WORKER_RECORD_FORMAT = 'psm-worker/v1';
const MAX_RECORD_BYTES = 64 * 1024;
const SPEC: JsonRecordSpec = {
  format: WORKER_RECORD_FORMAT,
  keys: ['format', 'worker', 'identity'],
  maxBytes: MAX_RECORD_BYTES,
};
/** The QEMU driver's worker names; nothing else can become a file name here. */
export const WORKER_NAME_PATTERN = /^[A-Za-z0-9_-]{1,63}$/;

export interface PreparedHostKey {
  readonly type: string;
  readonly fingerprint: string;
  /** `type base64`, as the `.pub` and known_hosts hold it. */
  readonly publicKey: string;
}

export interface PreparedGate {
  readonly policy: string;
  readonly path: string;
  readonly sha256: string;
}

export interface WorkerIdentity {
  readonly ssh: { readonly host: string; readonly port: number };
  readonly hostKeys: readonly PreparedHostKey[];
  /** The 12 hex digits in psm's key file names for this prepare. */
  readonly keyGeneration: string;
  readonly sshdConfigSha256: string;
  readonly gates: readonly PreparedGate[];
  readonly snapshot: string;
  readonly preparedAt: string;
}

export interface WorkerRecord {
  readonly worker: string;
  readonly identity: WorkerIdentity;
}

export function workersDirectory(location: string): string {
  return join(location, 'var', 'psm', 'workers');
}

export function workerRecordPath(location: string, worker: string): string {
  if (!WORKER_NAME_PATTERN.test(worker)) throw new Error('worker name was not checked');
  return join(workersDirectory(location), `${worker}.json`);
}

export async function writeWorkerRecord(
  location: string,
  record: WorkerRecord,
): Promise<Result<void, PrepareFailure>> {
  const path = workerRecordPath(location, record.worker);
  try {
    await mkdir(workersDirectory(location), { recursive: true, mode: 0o700 });
    const text = serializeJsonRecord({ format: WORKER_RECORD_FORMAT, ...record }, SPEC);
    await writeFileAtomic(path, text, { mode: 0o644 });
    return ok(undefined);
  } catch (error) {
    return err(prepareError('WORKER_RECORD_IO', `cannot write ${path}: ${errnoOf(error, 'error')}`));
  }
}

/** Removes the record; true when there was one. */
export async function removeWorkerRecord(
  location: string,
  worker: string,
): Promise<Result<boolean, PrepareFailure>> {
  if (!WORKER_NAME_PATTERN.test(worker)) return badName(worker);
  const path = workerRecordPath(location, worker);
  try {
    await unlink(path);
    return ok(true);
  } catch (error) {
    if (errnoOf(error, '') === 'ENOENT') return ok(false);
    return err(prepareError('WORKER_RECORD_IO', `cannot remove ${path}: ${errnoOf(error, 'error')}`));
  }
}

export async function readWorkerRecord(
  location: string,
  worker: string,
): Promise<Result<WorkerRecord, PrepareFailure>> {
  if (!WORKER_NAME_PATTERN.test(worker)) return badName(worker);
  const path = workerRecordPath(location, worker);
  const read = await readJsonRecordFile(path, SPEC);
  if (!read.ok) {
    switch (read.error.code) {
      case 'RECORD_MISSING':
        return err(prepareError('NOT_PREPARED', `${worker} is not prepared (no ${path})`));
      case 'RECORD_UNREADABLE':
        return err(prepareError('WORKER_RECORD_IO', `${path} ${read.error.message}`));
      case 'RECORD_TOO_LARGE':
      case 'RECORD_INVALID':
        return err(prepareError('WORKER_RECORD_INVALID', `${path} ${read.error.message}`));
      default:
        return assertNever(read.error.code);
    }
  }
  const value = read.value;
  const identity = value.identity;
  if (value.worker !== worker || !isIdentity(identity))
    return err(prepareError('WORKER_RECORD_INVALID', `${path} is not the record of ${worker}`));
  return ok({ worker, identity });
}

function badName(worker: string): Result<never, PrepareFailure> {
  return err(prepareError('PREPARE_BAD_INPUT', `"${worker.slice(0, 64)}" is not a worker name`));
}

function isIdentity(value: unknown): value is WorkerIdentity {
  if (!isJsonObject(value)) return false;
  const ssh = value.ssh;
  const text = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && v.length < 4096;
  return (
    isJsonObject(ssh) &&
    text(ssh.host) &&
    Number.isInteger(ssh.port) &&
    Array.isArray(value.hostKeys) &&
    value.hostKeys.every(
      (k) => isJsonObject(k) && text(k.type) && text(k.fingerprint) && text(k.publicKey),
    ) &&
    Array.isArray(value.gates) &&
    value.gates.every((g) => isJsonObject(g) && text(g.policy) && text(g.path) && text(g.sha256)) &&
    text(value.keyGeneration) &&
    text(value.sshdConfigSha256) &&
    text(value.snapshot) &&
    text(value.preparedAt)
  );
}

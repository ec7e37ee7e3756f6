import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { acquirePidLock, type HeldLock } from '../../common/pid-lock.js';
import {
  isJsonObject,
  readJsonRecordFile,
  serializeJsonRecord,
  type JsonObject,
} from '../../common/json-record.js';
import { assertNever, ok, type Result } from '../../common/result.js';
import { parsePublicKey, type PublicKey } from '../../authorized-keys/index.js';
import { keyxError, type KeyExchangeError } from './errors.js';
import {
  isValidId,
  MAX_ADMIN_KEYS,
  MAX_APPLICATIONS,
  MAX_INITIATORS_PER_APP,
  MAX_RECORD_BYTES,
  RECORD_LOCK_WAIT_MS,
} from './limits.js';

/**
 * A worker's intended authorized_keys, `$POPC_LOCATION/var/psm/workers/NAME.keys.json`, apart from
 * the worker's identity record (NAME.json): which admin keys and which applications' keys psm
 * means the worker to hold, each with the moment it was granted (its expiry is counted from
 * then, so writing the file again never extends a key). Rewritten atomically under a per-worker
 * lock; the worker's file is always rendered from this record, never edited in place.
 */
export const KEYS_RECORD_FORMAT = 'psm-worker-keys/v1';
const SPEC = {
  format: KEYS_RECORD_FORMAT,
  keys: ['format', 'worker', 'revision', 'admin', 'applications', 'userKey'],
  maxBytes: MAX_RECORD_BYTES,
} as const;

export interface GrantedKey {
  readonly key: PublicKey;
  /** ISO 8601 UTC, whole seconds. */
  readonly grantedAt: string;
}

export interface ApplicationGrant {
  readonly appId: string;
  readonly grantedAt: string;
  readonly mainNode: PublicKey;
  readonly initiators: readonly PublicKey[];
}

export interface UserKeyInfo {
  readonly key: PublicKey;
  /** Where the private half lives in the guest (it never leaves the guest after it is written). */
  readonly guestPath: string;
}

export interface IntendedKeys {
  readonly worker: string;
  /** Counts every change, so two records of one worker are ordered. */
  readonly revision: number;
  readonly admin: readonly GrantedKey[];
  readonly applications: readonly ApplicationGrant[];
  readonly userKey: UserKeyInfo | null;
}

export function workersDir(location: string): string {
  return join(location, 'var', 'psm', 'workers');
}

export function keysRecordPath(location: string, worker: string): string {
  return join(workersDir(location), `${worker}.keys.json`);
}

export function emptyIntendedKeys(worker: string): IntendedKeys {
  return { worker, revision: 0, admin: [], applications: [], userKey: null };
}

const keyText = (key: PublicKey): string => `${key.type} ${key.base64}`;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

export function serializeIntendedKeys(record: IntendedKeys): string {
  const value: JsonObject = {
    format: KEYS_RECORD_FORMAT,
    worker: record.worker,
    revision: record.revision,
    admin: record.admin.map((a) => ({
      key: keyText(a.key),
      fingerprint: a.key.fingerprint,
      grantedAt: a.grantedAt,
    })),
    applications: record.applications.map((app) => ({
      appId: app.appId,
      grantedAt: app.grantedAt,
      mainNode: keyText(app.mainNode),
      initiators: app.initiators.map(keyText),
    })),
    userKey:
      record.userKey === null
        ? null
        : {
            key: keyText(record.userKey.key),
            fingerprint: record.userKey.key.fingerprint,
            guestPath: record.userKey.guestPath,
          },
  };
  return serializeJsonRecord(value, SPEC);
}

/** Thrown inside parsing only, caught in parseIntendedKeys: keeps each field check to one line. */
class Invalid {
  constructor(readonly message: string) {}
}

function need(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Invalid(message);
}

function readKey(value: unknown, where: string): PublicKey {
  need(typeof value === 'string' && value.length <= 16 * 1024, `${where} is not a key`);
  const [type = '', base64 = '', extra] = value.split(' ');
  need(extra === undefined, `${where} is not "type base64"`);
  const parsed = parsePublicKey(type, base64);
  need(parsed.ok && !parsed.value.certificate, `${where} is not a plain public key`);
  return parsed.value;
}

function readTime(value: unknown, where: string): string {
  need(
    typeof value === 'string' && TIME.test(value) && !Number.isNaN(Date.parse(value)),
    `${where} is not a UTC time`,
  );
  return value;
}

function readList(value: unknown, max: number, where: string): unknown[] {
  need(Array.isArray(value) && value.length <= max, `${where} is not a list of at most ${max}`);
  return value;
}

function readFields(value: JsonObject, worker: string): IntendedKeys {
  need(
    value.worker === worker,
    `is the record of ${JSON.stringify(String(value.worker).slice(0, 64))}, not ${worker}`,
  );
  need(
    typeof value.revision === 'number' && Number.isSafeInteger(value.revision) && value.revision >= 0,
    'revision',
  );
  const admin = readList(value.admin, MAX_ADMIN_KEYS, 'admin').map((a, i) => {
    need(isJsonObject(a), `admin[${i}]`);
    return {
      key: readKey(a.key, `admin[${i}].key`),
      grantedAt: readTime(a.grantedAt, `admin[${i}].grantedAt`),
    };
  });
  const applications = readList(value.applications, MAX_APPLICATIONS, 'applications').map((a, i) => {
    need(isJsonObject(a) && typeof a.appId === 'string' && isValidId(a.appId), `applications[${i}].appId`);
    return {
      appId: a.appId,
      grantedAt: readTime(a.grantedAt, `applications[${i}].grantedAt`),
      mainNode: readKey(a.mainNode, `applications[${i}].mainNode`),
      initiators: readList(a.initiators, MAX_INITIATORS_PER_APP, `applications[${i}].initiators`).map(
        (k, j) => readKey(k, `applications[${i}].initiators[${j}]`),
      ),
    };
  });
  let userKey: UserKeyInfo | null = null;
  if (value.userKey !== null && value.userKey !== undefined) {
    const u = value.userKey;
    need(isJsonObject(u) && typeof u.guestPath === 'string' && u.guestPath.startsWith('/'), 'userKey');
    userKey = { key: readKey(u.key, 'userKey.key'), guestPath: u.guestPath };
  }
  return { worker, revision: value.revision, admin, applications, userKey };
}

/** The record of `worker`; an empty one when psm has written none yet. */
export async function readIntendedKeys(
  location: string,
  worker: string,
): Promise<Result<IntendedKeys, KeyExchangeError>> {
  const path = keysRecordPath(location, worker);
  const read = await readJsonRecordFile(path, SPEC);
  if (!read.ok) {
    switch (read.error.code) {
      case 'RECORD_MISSING':
        return ok(emptyIntendedKeys(worker));
      case 'RECORD_UNREADABLE':
        return keyxError('KEYX_RECORD_IO', `${path} ${read.error.message}`);
      case 'RECORD_TOO_LARGE':
      case 'RECORD_INVALID':
        return keyxError('KEYX_RECORD_INVALID', `${path} ${read.error.message}`);
      default:
        return assertNever(read.error.code);
    }
  }
  try {
    return ok(readFields(read.value, worker));
  } catch (error) {
    if (error instanceof Invalid) return keyxError('KEYX_RECORD_INVALID', `${path}: ${error.message}`);
    throw error;
  }
}

export async function writeIntendedKeys(
  location: string,
  record: IntendedKeys,
): Promise<Result<void, KeyExchangeError>> {
  const path = keysRecordPath(location, record.worker);
  try {
    await mkdir(workersDir(location), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, serializeIntendedKeys(record), { mode: 0o600 });
    return ok(undefined);
  } catch (error) {
    return keyxError('KEYX_RECORD_IO', `cannot write ${path}: ${(error as Error).message}`);
  }
}

/** One psm at a time changes a worker's keys: the record and the guest file move together. */
export async function lockWorkerKeys(
  location: string,
  worker: string,
): Promise<Result<HeldLock, KeyExchangeError>> {
  try {
    await mkdir(workersDir(location), { recursive: true, mode: 0o700 });
  } catch (error) {
    return keyxError('KEYX_RECORD_IO', `cannot create ${workersDir(location)}: ${(error as Error).message}`);
  }
  const lock = await acquirePidLock(join(workersDir(location), `.${worker}.keys.lock`), {
    waitMs: RECORD_LOCK_WAIT_MS,
    reentrant: false,
  });
  if (lock.ok) return lock;
  return keyxError(
    lock.error.code === 'LOCK_BUSY' ? 'KEYX_LOCKED' : 'KEYX_RECORD_IO',
    `the keys of ${worker}: ${lock.error.message}`,
  );
}

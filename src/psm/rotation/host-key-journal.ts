import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../../common/atomic-write.js';
import { isJsonObject, readJsonRecordFile, serializeJsonRecord } from '../../common/json-record.js';
import { ok, type Result } from '../../common/result.js';
import { rotationError, type RotationError } from './errors.js';

/**
 * The host key rotation's journal, `$POPC_LOCATION/var/psm/host-key-rotation.json`, replaced
 * atomically after every step of every worker. Per worker: `installed` (the new keys are in the
 * guest, not yet used), `pinned` (known_hosts pins old and new), `presenting` (sshd presents the
 * new keys, the old ones still listed), `switched` (only the new keys, only they pinned, the old
 * files gone), `done` (worker record and clean snapshot updated). Only public halves are here.
 */
const SPEC = {
  format: 'psm-host-key-rotation/v1',
  keys: ['format', 'id', 'workers'],
  maxBytes: 1024 * 1024,
} as const;

export type HostKeyStep = 'installed' | 'pinned' | 'presenting' | 'switched' | 'done';
const STEPS: readonly HostKeyStep[] = ['installed', 'pinned', 'presenting', 'switched', 'done'];

export interface HostKeyWorkerState {
  readonly step: HostKeyStep;
  readonly generation: string;
  /** `type base64` of each new key, in the order of the old ones. */
  readonly newKeys: readonly string[];
  readonly newPaths: readonly string[];
  readonly oldKeys: readonly string[];
  readonly oldPaths: readonly string[];
}

export interface HostKeyJournal {
  readonly id: string;
  readonly workers: Readonly<Record<string, HostKeyWorkerState>>;
}

export function hostKeyJournalPath(location: string): string {
  return join(location, 'var', 'psm', 'host-key-rotation.json');
}

const strings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.length <= 8 && v.every((s) => typeof s === 'string' && s.length < 16_384);

function isState(v: unknown): v is HostKeyWorkerState {
  return (
    isJsonObject(v) &&
    STEPS.includes(v.step as HostKeyStep) &&
    typeof v.generation === 'string' &&
    /^[0-9a-f]{12}$/.test(v.generation) &&
    strings(v.newKeys) &&
    strings(v.newPaths) &&
    strings(v.oldKeys) &&
    strings(v.oldPaths) &&
    v.newKeys.length === v.newPaths.length &&
    v.oldKeys.length === v.oldPaths.length &&
    [...v.newPaths, ...v.oldPaths].every((p) => /^\/persist\/etc\/ssh\/[A-Za-z0-9._-]+$/.test(p))
  );
}

export async function readHostKeyJournal(
  location: string,
): Promise<Result<HostKeyJournal | null, RotationError>> {
  const path = hostKeyJournalPath(location);
  const read = await readJsonRecordFile(path, SPEC);
  if (!read.ok) {
    if (read.error.code === 'RECORD_MISSING') return ok(null);
    return rotationError(
      read.error.code === 'RECORD_UNREADABLE' ? 'ROTATE_IO' : 'ROTATE_JOURNAL_INVALID',
      `${path} ${read.error.message}`,
    );
  }
  const { id, workers } = read.value;
  if (typeof id !== 'string' || !isJsonObject(workers) || !Object.values(workers).every(isState))
    return rotationError('ROTATE_JOURNAL_INVALID', `${path} is not a host key rotation journal psm wrote`);
  return ok({ id, workers: workers as Record<string, HostKeyWorkerState> });
}

export async function writeHostKeyJournal(
  location: string,
  journal: HostKeyJournal,
): Promise<Result<void, RotationError>> {
  try {
    await writeFileAtomic(
      hostKeyJournalPath(location),
      serializeJsonRecord({ format: SPEC.format, ...journal }, SPEC),
      {
        mode: 0o600,
      },
    );
    return ok(undefined);
  } catch (error) {
    return rotationError('ROTATE_IO', `cannot write the host key journal: ${(error as Error).message}`);
  }
}

export async function removeHostKeyJournal(location: string): Promise<Result<void, RotationError>> {
  try {
    await rm(hostKeyJournalPath(location), { force: true });
    await fsyncDirectory(dirname(hostKeyJournalPath(location)));
    return ok(undefined);
  } catch (error) {
    return rotationError('ROTATE_IO', `cannot remove the host key journal: ${(error as Error).message}`);
  }
}

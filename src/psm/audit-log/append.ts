import { createHash } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { fsyncDirectory, writeFileAtomic } from '../../common/atomic-write.js';
import { err, ok, type Result } from '../../common/result.js';
import { GENESIS_PREV, checkEntryInput } from './entry.js';
import { lineHash, linkProblems, sealEntry, type NewEntry } from './chain.js';
import { signCheckpoint, verifyCheckpoint, type Checkpoint } from './checkpoint.js';
import { errnoOf } from '../../common/errno.js';
import { auditError, type AuditLogError } from './errors.js';
import type { AuditKeys } from './keys.js';
import { auditPaths, type AuditPaths } from './layout.js';
import { acquireAppendLock } from './lock.js';
import { readTail, type LogTail } from './tail.js';

export const REPAIR_ACTION = 'audit-log.repaired';

export interface AppendResult {
  /** The seq of each appended entry, in order (a repair entry first when one was written). */
  readonly seqs: readonly number[];
  readonly count: number;
  readonly head: string;
  /** Set when a cut-off line from a crash was removed first; a repair entry records it. */
  readonly repaired: { readonly bytes: number; readonly sha256: string } | null;
}

/**
 * Appends entries under the lock: checks the log's end against the signed checkpoint (refusing
 * to chain onto a log that was cut or rewritten), removes a cut-off last line left by a crash
 * and records that in an entry, writes all new lines with one O_APPEND write, fsyncs, then signs
 * and atomically replaces the checkpoint. A crash at any point leaves a log that verifies, at
 * worst with a torn last line that the next append or `verify --repair` removes, on the record.
 */
export async function appendEntries(
  keys: AuditKeys,
  location: string,
  entries: readonly NewEntry[],
  /** Who a repair entry is recorded for (default: the first entry's actor and time). */
  repairBy?: Pick<NewEntry, 'actor' | 'time'>,
): Promise<Result<AppendResult, AuditLogError>> {
  for (const entry of entries) {
    const checked = checkEntryInput(entry.action, entry.subject, entry.actor);
    if (!checked.ok) return checked;
  }
  const paths = auditPaths(location);
  try {
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    return err(auditError('AUDIT_IO', `cannot create ${paths.dir} (${errnoOf(error)})`));
  }
  const lock = await acquireAppendLock(paths.lock);
  if (!lock.ok) return lock;
  try {
    return await appendLocked(keys, paths, entries, repairBy ?? entries[0]);
  } catch (error) {
    return err(auditError('AUDIT_IO', `cannot append to ${paths.log} (${errnoOf(error)})`));
  } finally {
    await lock.value();
  }
}

async function appendLocked(
  keys: AuditKeys,
  paths: AuditPaths,
  entries: readonly NewEntry[],
  repairBy: Pick<NewEntry, 'actor' | 'time'> | undefined,
): Promise<Result<AppendResult, AuditLogError>> {
  const checkpoint = await readCheckpoint(keys, paths);
  if (!checkpoint.ok) return checkpoint;
  const tail = await readTail(paths.log, checkpoint.value === null ? -1 : checkpoint.value.count - 1);
  const end = checkTail(keys, tail, checkpoint.value);
  if (!end.ok) return end;
  if (checkpoint.value === null) {
    // The empty log's checkpoint comes first: from now on a log without one was tampered with.
    await writeFileAtomic(paths.checkpoint, signCheckpoint(keys, 0, GENESIS_PREV), { mode: 0o600 });
  }
  let { seq, prev } = end.value;
  let repaired: AppendResult['repaired'] = null;
  const all = [...entries];
  if (tail.torn.length > 0) {
    repaired = { bytes: tail.torn.length, sha256: createHash('sha256').update(tail.torn).digest('hex') };
    if (repairBy === undefined) throw new Error('bug: a repair needs an actor');
    all.unshift({
      action: REPAIR_ACTION,
      subject: {
        reason: 'cut-off last line (crash during a write)',
        tornBytes: repaired.bytes,
        tornSha256: repaired.sha256,
      },
      actor: repairBy.actor,
      time: repairBy.time,
    });
  }
  if (all.length === 0) return ok({ seqs: [], count: seq, head: prev, repaired });
  const lines: string[] = [];
  const seqs: number[] = [];
  for (const entry of all) {
    const line = sealEntry(keys, seq, prev, entry);
    lines.push(line);
    seqs.push(seq);
    prev = lineHash(line);
    seq += 1;
  }
  const handle = await open(paths.log, 'a', 0o600);
  try {
    if (tail.torn.length > 0) await handle.truncate(tail.cleanEnd);
    const data = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
    // One write(2) with O_APPEND: the lines land whole and together, after whatever is there.
    const { bytesWritten } = await handle.write(data, 0, data.length);
    if (bytesWritten !== data.length)
      return err(auditError('AUDIT_IO', `only ${bytesWritten} of ${data.length} bytes reached ${paths.log}`));
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (!tail.exists) await fsyncDirectory(paths.dir);
  await writeFileAtomic(paths.checkpoint, signCheckpoint(keys, seq, prev), { mode: 0o600 });
  return ok({ seqs, count: seq, head: prev, repaired });
}

async function readCheckpoint(
  keys: AuditKeys,
  paths: AuditPaths,
): Promise<Result<Checkpoint | null, AuditLogError>> {
  let text: string;
  try {
    text = await readFile(paths.checkpoint, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return ok(null);
    return err(auditError('AUDIT_IO', `cannot read ${paths.checkpoint} (${errnoOf(error)})`));
  }
  const verified = verifyCheckpoint(keys, text);
  if (!verified.ok) return err(auditError('AUDIT_TAMPERED', `not appending: ${verified.error.message}`));
  return verified;
}

const tampered = (why: string): Result<never, AuditLogError> =>
  err(auditError('AUDIT_TAMPERED', `not appending to the audit log: ${why}; run psm audit-log verify`));

/** The seq and prev the next entry gets, after checking every line the checkpoint does not cover. */
function checkTail(
  keys: AuditKeys,
  tail: LogTail,
  checkpoint: Checkpoint | null,
): Result<{ seq: number; prev: string }, AuditLogError> {
  if (checkpoint === null && tail.lines.length > 0)
    return tampered('the log has entries but its checkpoint is gone');
  const count = checkpoint?.count ?? 0;
  let start: number;
  let seq: number;
  let prev: string;
  if (count === 0) {
    if (!tail.fromStart) throw new Error('bug: the tail of an empty checkpoint starts mid-file');
    [start, seq, prev] = [0, 0, GENESIS_PREV];
  } else {
    const anchor = tail.lines.findIndex((l) => l.entry?.seq === count - 1);
    const line = tail.lines[anchor];
    if (line?.text == null || lineHash(line.text) !== checkpoint?.head)
      return tampered(`entry ${count - 1}, where the signed checkpoint ends, is missing or changed`);
    [start, seq, prev] = [anchor + 1, count, lineHash(line.text)];
  }
  for (const line of tail.lines.slice(start)) {
    if (line.entry === null || line.text === null)
      return tampered(`a line after entry ${seq - 1} is malformed`);
    const problems = linkProblems(keys, line.entry, seq, prev);
    if (problems.length > 0) return tampered(problems.map((p) => p.message).join('; '));
    [seq, prev] = [seq + 1, lineHash(line.text)];
  }
  return ok({ seq, prev });
}

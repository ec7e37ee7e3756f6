import { randomBytes } from 'node:crypto';
import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { err, ok, type Result } from '../../common/result.js';
import { auditError, errnoOf, type AuditLogError } from './errors.js';

/**
 * The append lock: one writer extends the chain at a time, so two psm processes never both
 * chain onto the same entry (a fork). Writers wait for each other (an append takes
 * milliseconds) instead of failing.
 *
 * The lock file is made complete (pid, process start time, random token) under a temp name and
 * then hard-linked into place, so it never exists half-written. A lock whose process is gone
 * (kill -9) is stale; removing it is guarded by a second, short-lived lock and done only if the
 * file still holds the stale token, so two waiters cannot both "take over" and one remove the
 * other's fresh lock. A guard older than GUARD_STALE_MS belonged to a process that died inside
 * those few instructions and is removed.
 */
export const LOCK_WAIT_MS = 30_000;
const GUARD_STALE_MS = 5_000;
const POLL_FIRST_MS = 2;
const POLL_MAX_MS = 50;

export type Release = () => Promise<void>;

interface Holder {
  readonly pid: number;
  readonly start: string;
  readonly token: string;
}

/** Field 22 of /proc/PID/stat: when the process started, so a reused pid is not mistaken for the holder. */
async function startTime(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

async function alive(holder: Holder): Promise<boolean> {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if (errnoOf(error) !== 'EPERM') return false;
  }
  const start = await startTime(holder.pid);
  return start === null || start === holder.start;
}

function parseHolder(text: string): Holder | null {
  const match = /^(\d{1,10}) (\d{1,20}) ([0-9a-f]{32})\n$/.exec(text);
  if (match === null) return null;
  return { pid: Number(match[1]), start: match[2] as string, token: match[3] as string };
}

export async function acquireAppendLock(
  path: string,
  waitMs = LOCK_WAIT_MS,
): Promise<Result<Release, AuditLogError>> {
  const token = randomBytes(16).toString('hex');
  const temp = `${path}.${token}`;
  const mine = `${process.pid} ${(await startTime(process.pid)) ?? '0'} ${token}\n`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    await handle.writeFile(mine);
    await handle.close();
  } catch (error) {
    return err(auditError('AUDIT_IO', `cannot create ${temp} (${errnoOf(error)})`));
  }
  const deadline = Date.now() + waitMs;
  try {
    for (let delay = POLL_FIRST_MS; ; delay = Math.min(delay * 2, POLL_MAX_MS)) {
      try {
        await link(temp, path);
        return ok(async () => {
          // Only our own lock is removed: after a takeover bug it could be someone else's.
          if ((await readFile(path, 'utf8').catch(() => '')) === mine)
            await unlink(path).catch(() => undefined);
        });
      } catch (error) {
        if (errnoOf(error) !== 'EEXIST')
          return err(auditError('AUDIT_IO', `cannot take ${path} (${errnoOf(error)})`));
      }
      const text = await readFile(path, 'utf8').catch(() => null);
      const holder = text === null ? null : parseHolder(text);
      if (text !== null && (holder === null || !(await alive(holder)))) await removeStale(path, text);
      if (Date.now() >= deadline)
        return err(
          auditError(
            'AUDIT_LOCKED',
            `another psm (${holder === null ? 'unknown' : `pid ${holder.pid}`}) held the audit log lock for ${waitMs} ms`,
          ),
        );
      await sleep(delay);
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Removes the lock at `path` only if it still holds `staleText`, under the takeover guard. */
async function removeStale(path: string, staleText: string): Promise<void> {
  const guard = `${path}.takeover`;
  try {
    const handle = await open(guard, 'wx', 0o600);
    await handle.close();
  } catch {
    const info = await stat(guard).catch(() => null);
    if (info !== null && Date.now() - info.mtimeMs > GUARD_STALE_MS)
      await unlink(guard).catch(() => undefined);
    return;
  }
  try {
    if ((await readFile(path, 'utf8').catch(() => null)) === staleText)
      await unlink(path).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

import { lstat, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoOf } from './errno.js';
import { currentIdentity, isRunning, type ProcessIdentity } from './process-identity.js';
import { err, ok, type CodedError, type Result } from './result.js';

/**
 * psm's one inter-process lock: a lock directory in which each contender creates a claim file
 * named after itself ("PID.STARTTIME.BOOTID", see process-identity.ts).
 *
 * Why not one lock file whose holder writes its pid: the file exists before its pid is written,
 * so a second process can read it empty, call it stale and delete a live lock (issue 9, defect 2);
 * and even with create-with-content-then-link, taking over a stale lock (read, judge dead,
 * delete, create) races with a second taker that deletes the first taker's fresh lock, unless a
 * breaker lock serialises takers, which can itself go stale. Here the identity is the file name,
 * so a claim is complete the moment it exists, and nothing is ever taken over:
 *
 * 1. create my claim (O_EXCL; the name alone says who I am);
 * 2. list the directory;
 * 3. if any other claim belongs to a running process, remove mine and back off (or wait);
 *    claims of dead processes are ignored and removed (their owner can never come back);
 * 4. otherwise I hold the lock until I remove my claim.
 *
 * Two processes never both hold it: each creates its claim before it lists, and a claim of a
 * running process is removed only by its owner, so whichever created its claim second sees the
 * first one's claim in its listing (a directory listing returns every entry created before it
 * started). Both can back off at once; random back-off makes that rare and it only costs a retry.
 * It needs a local filesystem (ordinary directory semantics) and one pid namespace.
 */

export type PidLockErrorCode =
  /** Another running process holds the lock (for longer than the caller was willing to wait). */
  | 'LOCK_BUSY'
  /** The lock directory cannot be created, listed or written. */
  | 'LOCK_IO';

export interface PidLockError extends CodedError<PidLockErrorCode> {
  /** The pid of a running holder, for LOCK_BUSY. */
  readonly holder?: number;
}

export interface PidLockOptions {
  /** How long to keep trying while another process holds the lock (default 0: refuse at once). */
  readonly waitMs?: number;
  /** A process that already holds the lock gets it again (one release frees it). */
  readonly reentrant?: boolean;
}

export interface HeldLock {
  release(): Promise<void>;
}

const CLAIM_NAME = /^(\d{1,10})\.(\d{1,20})\.([0-9a-f-]{1,64})$/;
/** Back-off between attempts grows from about 2 ms to at most this, with random jitter. */
const MAX_BACKOFF_MS = 100;

/** Lock directories this process holds; acquisitions in one process are serialised per directory. */
const held = new Set<string>();
const acquiring = new Map<string, Promise<unknown>>();

function claimName(me: ProcessIdentity): string {
  return `${me.pid}.${me.startTime}.${me.bootId}`;
}

function parseClaim(name: string): ProcessIdentity | undefined {
  const match = CLAIM_NAME.exec(name);
  if (match === null) return undefined;
  return { pid: Number(match[1]), startTime: match[2] ?? '', bootId: match[3] ?? '' };
}

async function ensureDirectory(dir: string): Promise<Result<void, PidLockError>> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    if (errnoOf(error, 'error') !== 'EEXIST')
      return err({
        code: 'LOCK_IO',
        message: `cannot create the lock ${dir} (${errnoOf(error, 'error')})`,
        file: dir,
      });
  }
  try {
    // lstat: a symlink in place of the lock directory could point the claims anywhere.
    if ((await lstat(dir)).isDirectory()) return ok(undefined);
  } catch (error) {
    return err({
      code: 'LOCK_IO',
      message: `cannot read the lock ${dir} (${errnoOf(error, 'error')})`,
      file: dir,
    });
  }
  return err({ code: 'LOCK_IO', message: `the lock ${dir} is not a directory; remove it`, file: dir });
}

type Attempt = { kind: 'held' } | { kind: 'busy'; holder: number } | { kind: 'failed'; error: PidLockError };

/** Steps 1-4 of the protocol above, once. */
async function attempt(dir: string, me: ProcessIdentity, reentrant: boolean): Promise<Attempt> {
  const mine = join(dir, claimName(me));
  if (held.has(dir)) {
    // Still held only if the claim is still there (a caller may have removed the whole directory).
    const present = await stat(mine).then(
      () => true,
      () => false,
    );
    if (present) return reentrant ? { kind: 'held' } : { kind: 'busy', holder: me.pid };
    held.delete(dir);
  }
  try {
    await (await open(mine, 'wx', 0o600)).close();
  } catch (error) {
    if (errnoOf(error, 'error') !== 'EEXIST')
      return {
        kind: 'failed',
        error: {
          code: 'LOCK_IO',
          message: `cannot claim the lock ${dir} (${errnoOf(error, 'error')})`,
          file: dir,
        },
      };
    // EEXIST: a claim of this process left by an acquisition that failed half-way; it is ours.
  }
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    await unlink(mine).catch(() => undefined);
    return {
      kind: 'failed',
      error: {
        code: 'LOCK_IO',
        message: `cannot list the lock ${dir} (${errnoOf(error, 'error')})`,
        file: dir,
      },
    };
  }
  for (const name of names) {
    const other = parseClaim(name);
    if (other === undefined || name === claimName(me)) continue;
    if (await isRunning(other)) {
      await unlink(mine).catch(() => undefined);
      return { kind: 'busy', holder: other.pid };
    }
    await unlink(join(dir, name)).catch(() => undefined);
  }
  held.add(dir);
  return { kind: 'held' };
}

async function serialised<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const before = acquiring.get(dir) ?? Promise.resolve();
  const run = before.then(work, work);
  const tail = run.catch(() => undefined);
  acquiring.set(dir, tail);
  try {
    return await run;
  } finally {
    if (acquiring.get(dir) === tail) acquiring.delete(dir);
  }
}

/** Takes the lock `dir` (created 0700 if missing; its parent must exist). */
export async function acquirePidLock(
  dir: string,
  options: PidLockOptions = {},
): Promise<Result<HeldLock, PidLockError>> {
  const ready = await ensureDirectory(dir);
  if (!ready.ok) return ready;
  const me = await currentIdentity();
  const deadline = Date.now() + Math.max(0, options.waitMs ?? 0);
  for (let round = 0; ; round += 1) {
    const outcome = await serialised(dir, () => attempt(dir, me, options.reentrant === true));
    switch (outcome.kind) {
      case 'held':
        return ok({ release: () => releasePidLock(dir) });
      case 'failed':
        return err(outcome.error);
      case 'busy':
        break;
    }
    const left = deadline - Date.now();
    if (left <= 0)
      return err({
        code: 'LOCK_BUSY',
        message: `held by another process (pid ${outcome.holder})`,
        holder: outcome.holder,
        file: dir,
      });
    const backoff = Math.min(MAX_BACKOFF_MS, 2 ** Math.min(round, 6) * 2);
    await sleep(Math.min(left, 1 + randomInt(backoff)));
  }
}

/** Removes this process's claim on `dir`, if it has one. */
export async function releasePidLock(dir: string): Promise<void> {
  const me = await currentIdentity();
  held.delete(dir);
  await unlink(join(dir, claimName(me))).catch(() => undefined);
}

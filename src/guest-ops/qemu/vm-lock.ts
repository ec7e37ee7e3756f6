import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ok, type Result } from '../../common/result.js';
import { fail, reasonOf, type GuestOpsError } from '../errors.js';
import type { VmLayout } from './vm-layout.js';

/**
 * A per-VM lock file (`<dir>/lock`: "pid starttime") held while a process has connections open to
 * the VM. QEMU's QMP socket and the guest agent each serve one client; a second psm process would
 * otherwise wait silently until its timeout. With the lock it gets WORKER_BUSY at once.
 * Re-entrant within one process (its own handles share the pid); a lock whose process is gone (or
 * whose pid now belongs to a process started later) is stale and taken over.
 */

const LOCK_FILE = 'lock';

export function lockPath(layout: VmLayout): string {
  return join(layout.dir, LOCK_FILE);
}

export async function acquireVmLock(layout: VmLayout): Promise<Result<void, GuestOpsError>> {
  const me = await identity(process.pid);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(lockPath(layout), me, { flag: 'wx', mode: 0o600 });
      return ok(undefined);
    } catch (error) {
      if (reasonOf(error) !== 'EEXIST')
        return fail('HOST_IO', `cannot create the lock (${reasonOf(error)})`, lockPath(layout));
    }
    const holder = await readFile(lockPath(layout), 'utf8').catch(() => '');
    if (holder === me) return ok(undefined);
    if (await isAlive(holder))
      return fail(
        'WORKER_BUSY',
        `worker ${layout.name} is in use by another process (pid ${holder.split(' ')[0]})`,
      );
    await unlink(lockPath(layout)).catch(() => undefined);
  }
  return fail('WORKER_BUSY', `worker ${layout.name} is in use by another process`);
}

/** Removes the lock if this process holds it. */
export async function releaseVmLock(layout: VmLayout): Promise<void> {
  const holder = await readFile(lockPath(layout), 'utf8').catch(() => '');
  if (holder === (await identity(process.pid))) await unlink(lockPath(layout)).catch(() => undefined);
}

/** "pid starttime": the start time (clock ticks since boot) tells a reused pid apart. */
async function identity(pid: number): Promise<string> {
  return `${pid} ${await startTime(pid)}`;
}

async function startTime(pid: number): Promise<string> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces and parentheses); starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '?';
  } catch {
    return '?';
  }
}

async function isAlive(holder: string): Promise<boolean> {
  const match = /^(\d{1,10}) (\d{1,20})$/.exec(holder);
  if (match === null) return false;
  return (await identity(Number(match[1]))) === holder;
}

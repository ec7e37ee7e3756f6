import { join } from 'node:path';
import { acquirePidLock, releasePidLock } from '../../common/pid-lock.js';
import { ok, type Result } from '../../common/result.js';
import { fail, type GuestOpsError } from '../errors.js';
import type { VmLayout } from './vm-layout.js';

/**
 * A per-VM lock (`<dir>/lock`, the common pid lock of src/common/pid-lock.ts) held while a
 * process has connections open to the VM. QEMU's QMP socket and the guest agent each serve one
 * client; a second psm process would otherwise wait silently until its timeout. With the lock it
 * gets WORKER_BUSY at once. Re-entrant within one process; a holder that is gone (or whose pid
 * now belongs to a process started later) holds nothing.
 */

const LOCK_DIR = 'lock';

export function lockPath(layout: VmLayout): string {
  return join(layout.dir, LOCK_DIR);
}

export async function acquireVmLock(layout: VmLayout, waitMs = 0): Promise<Result<void, GuestOpsError>> {
  const lock = await acquirePidLock(lockPath(layout), { reentrant: true, waitMs });
  if (lock.ok) return ok(undefined);
  switch (lock.error.code) {
    case 'LOCK_BUSY':
      return fail(
        'WORKER_BUSY',
        `worker ${layout.name} is in use by another process (pid ${lock.error.holder ?? '?'})`,
      );
    case 'LOCK_IO':
      return fail('HOST_IO', lock.error.message, lockPath(layout));
  }
}

/** Removes the lock if this process holds it. */
export async function releaseVmLock(layout: VmLayout): Promise<void> {
  await releasePidLock(lockPath(layout));
}

import { acquirePidLock } from '../../common/pid-lock.js';
import { err, ok, type Result } from '../../common/result.js';
import { auditError, type AuditLogError } from './errors.js';

/**
 * The append lock: one writer extends the chain at a time, so two psm processes never both chain
 * onto the same entry (a fork). It is psm's one inter-process lock (src/common/pid-lock.ts: the
 * holder is known the moment its claim exists, a dead holder's claim is ignored and removed).
 * Writers wait for each other (an append takes milliseconds) instead of failing.
 */
export const LOCK_WAIT_MS = 30_000;

export type Release = () => Promise<void>;

/** Takes the lock directory `path` (next to the log), waiting up to `waitMs`. */
export async function acquireAppendLock(
  path: string,
  waitMs = LOCK_WAIT_MS,
): Promise<Result<Release, AuditLogError>> {
  const lock = await acquirePidLock(path, { waitMs });
  if (lock.ok) return ok(() => lock.value.release());
  return err(auditError(lock.error.code === 'LOCK_BUSY' ? 'AUDIT_LOCKED' : 'AUDIT_IO', lock.error.message));
}

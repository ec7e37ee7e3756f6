import { acquirePidLock } from '../common/pid-lock.js';
import { err, ok, type Result } from '../common/result.js';
import { vaultError, type VaultError } from './errors.js';

export type Unlock = () => Promise<void>;

/** How long a vault writer waits for another one by default (a write holds the lock for milliseconds). */
export const DEFAULT_LOCK_WAIT_MS = 30_000;

/** The longest wait for another writer a caller may ask for (`--lock-wait`), in seconds. */
export const MAX_LOCK_WAIT_SECONDS = 3600;

/**
 * One writer at a time, through the common pid lock (src/common/pid-lock.ts): a writer killed
 * mid-write leaves a claim that the next writer ignores, a live one makes others wait up to
 * `waitMs`, then LOCKED.
 */
export async function acquireLock(
  path: string,
  waitMs: number = DEFAULT_LOCK_WAIT_MS,
): Promise<Result<Unlock, VaultError>> {
  const lock = await acquirePidLock(path, { waitMs });
  if (lock.ok) return ok(() => lock.value.release());
  switch (lock.error.code) {
    case 'LOCK_BUSY':
      return err(
        vaultError(
          'LOCKED',
          `another psm (pid ${lock.error.holder ?? '?'}) is changing the vault; try again when it has finished`,
          { file: path },
        ),
      );
    case 'LOCK_IO':
      return err(vaultError('IO_FAILED', lock.error.message, { file: path }));
  }
}

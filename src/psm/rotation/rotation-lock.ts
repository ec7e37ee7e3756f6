import { join } from 'node:path';
import { acquirePidLock } from '../../common/pid-lock.js';
import type { Result } from '../../common/result.js';
import { rotationError, type RotationError } from './errors.js';

/**
 * Runs `work` holding the location's one rotation lock: the admin-key and the host-key rotations
 * share it, so two runs never interleave their journals or their edits of the pin store.
 */
export async function withRotationLock<T>(
  location: string,
  work: () => Promise<Result<T, RotationError>>,
): Promise<Result<T, RotationError>> {
  const lock = await acquirePidLock(join(location, 'var', 'psm', '.rotation.lock'));
  if (!lock.ok)
    return rotationError(
      lock.error.code === 'LOCK_BUSY' ? 'ROTATE_LOCKED' : 'ROTATE_IO',
      `rotation: ${lock.error.message}`,
    );
  try {
    return await work();
  } finally {
    await lock.value.release();
  }
}

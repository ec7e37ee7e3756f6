import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { err, ok, type Result } from '../common/result.js';
import { errnoCode, vaultError, type VaultError } from './errors.js';
import { acquireLock } from './lock.js';
import { layoutOf, type Layout } from './layout.js';

export async function writeConfig(file: string, text: string): Promise<Result<void, VaultError>> {
  try {
    await writeFileAtomic(file, text, { mode: 0o600 });
    return ok(undefined);
  } catch (error) {
    return err(
      vaultError('IO_FAILED', `cannot write ${file} (${errnoCode(error)}); it is unchanged`, { file }),
    );
  }
}

/**
 * Removes what a killed writer can leave in etc/: temp files of atomic writes (one may hold a
 * key that was never used). Called only under the lock, so no live writer owns them.
 */
export async function removeLeftovers(layout: Layout): Promise<void> {
  const names = await readdir(layout.etcDir).catch(() => [] as string[]);
  const temp = /^\.(virtual\.conf|psm\.key|psm\.key\.next)\.[0-9a-f]{12}\.tmp$/;
  for (const name of names)
    if (temp.test(name)) await unlink(join(layout.etcDir, name)).catch(() => undefined);
}

/** Runs `work` holding the vault's write lock; leftovers of killed writers are cleared first. */
export async function withWriteLock<T>(
  location: string,
  work: (layout: Layout) => Promise<Result<T, VaultError>>,
): Promise<Result<T, VaultError>> {
  const layout = layoutOf(location);
  const lock = await acquireLock(layout.lockFile);
  if (!lock.ok) return lock;
  try {
    await removeLeftovers(layout);
    return await work(layout);
  } finally {
    await lock.value();
  }
}

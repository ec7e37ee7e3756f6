import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../common/atomic-write.js';
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

/**
 * Removes key files a killed rekey left behind once the config no longer needs them: an old
 * psm.key after a switch to a passphrase (it still opens old backups of the config), or a
 * psm.key.next that is not the key in use. Called under the lock, with the vault open.
 */
export async function removeStaleKeys(
  layout: Layout,
  keySource: 'file' | 'passphrase',
  keyPath: string | undefined,
): Promise<void> {
  // psm.key.next is stale only when the key in use was read from psm.key itself.
  const stale =
    keySource === 'passphrase'
      ? [layout.keyFile, layout.nextKeyFile]
      : keyPath === layout.keyFile
        ? [layout.nextKeyFile]
        : [];
  for (const path of stale) await unlink(path).catch(() => undefined);
  if (stale.length > 0) await fsyncDirectory(layout.etcDir).catch(() => undefined);
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

import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../common/atomic-write.js';
import { err, ok, type Result } from '../common/result.js';
import { errnoOf } from '../common/errno.js';
import { vaultError, type VaultError } from './errors.js';
import { loadConfig } from './config.js';
import { acquireLock, DEFAULT_LOCK_WAIT_MS } from './lock.js';
import { layoutOf, type Layout } from './layout.js';
import type { KeyOptions } from './unlock.js';

export interface WriteOptions {
  /** How long to wait for another writer (default DEFAULT_LOCK_WAIT_MS; 0 refuses at once). */
  readonly lockWaitMs?: number;
}

export async function writeConfig(file: string, text: string): Promise<Result<void, VaultError>> {
  // Renaming over a symlink replaces the link with a regular file: the admin's link would be
  // silently cut and the real file left stale. Refused, as `psm known-hosts hash` does.
  const link = await lstat(file).then(
    (info) => info.isSymbolicLink(),
    () => false,
  );
  if (link)
    return err(
      vaultError(
        'CONFIG_SYMLINK',
        `${file} is a symbolic link; psm replaces virtual.conf atomically and will not replace a link: move the real file to ${file}`,
        { file },
      ),
    );
  try {
    await writeFileAtomic(file, text, { mode: 0o600 });
    return ok(undefined);
  } catch (error) {
    return err(
      vaultError('IO_FAILED', `cannot write ${file} (${errnoOf(error)}); it is unchanged`, { file }),
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

/**
 * Reads the passphrase (a prompt, a file, a descriptor) before the lock is taken, when the vault
 * uses one, so a writer waiting on its input never holds the lock. The returned options hand out
 * a fresh copy each time (unlockKey wipes what it gets); `wipe` clears the kept bytes.
 */
async function readKeyInputFirst(
  location: string,
  options: KeyOptions,
): Promise<Result<{ options: KeyOptions; wipe: () => void }, VaultError>> {
  const none = { options, wipe: () => undefined };
  if (options.passphrase === undefined) return ok(none);
  const conf = await loadConfig(location);
  // The work repeats the load under the lock and reports a bad config there.
  if (!conf.ok || conf.value.vault.keySource !== 'passphrase') return ok(none);
  const read = await options.passphrase();
  if (!read.ok) return read;
  const kept = read.value;
  return ok({
    options: { ...options, passphrase: () => Promise.resolve(ok(kept.slice())) },
    wipe: () => kept.fill(0),
  });
}

/**
 * Runs `work` holding the vault's write lock; leftovers of killed writers are cleared first.
 * Key input is read before the lock (see readKeyInputFirst); `work` gets the options to unlock with.
 */
export async function withWriteLock<T>(
  location: string,
  keyOptions: KeyOptions,
  write: WriteOptions,
  work: (layout: Layout, keyOptions: KeyOptions) => Promise<Result<T, VaultError>>,
): Promise<Result<T, VaultError>> {
  const layout = layoutOf(location);
  const input = await readKeyInputFirst(location, keyOptions);
  if (!input.ok) return input;
  try {
    const lock = await acquireLock(layout.lockFile, write.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
    if (!lock.ok) return lock;
    try {
      await removeLeftovers(layout);
      return await work(layout, input.value.options);
    } finally {
      await lock.value();
    }
  } finally {
    input.value.wipe();
  }
}

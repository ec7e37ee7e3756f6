import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o600: psm's files are private unless said otherwise). */
  readonly mode?: number;
  /** Owner of the new file; set on the temp file before the rename, so the file never appears with another owner. */
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/**
 * Replaces `path` with `data` so that a reader (or a crash) sees either the old file or the new
 * one, never a mix: temp file in the same directory, fsync, rename over, fsync the directory.
 * The temp file is removed if anything fails before the rename.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = options.mode ?? 0o600;
  const handle = await open(temp, 'wx', mode);
  let renamed = false;
  try {
    await handle.writeFile(data);
    // open() applies the umask; chmod makes the mode exactly what the caller asked for.
    await handle.chmod(mode);
    if (options.owner) await handle.chown(options.owner.uid, options.owner.gid);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
    renamed = true;
    await fsyncDirectory(dir);
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    }
  }
}

/** Makes a rename or create in `dir` durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

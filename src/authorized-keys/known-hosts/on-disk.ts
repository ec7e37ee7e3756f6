/**
 * known_hosts files on disk: read whole (bounded, regular files only) and hashed in place like
 * `ssh-keygen -H`, with one atomic rewrite that keeps the file's mode (and, as root, its owner).
 */
import { readRegularFileWithInfo, type ReadError } from '../../common/bounded-read.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { err, ok, type Result } from '../../common/result.js';
import { MAX_KNOWN_HOSTS_FILE_BYTES, type KnownHostsError } from './errors.js';
import type { HashCounts } from './hash-file.js';
import { hashKnownHostsData } from './hash-data.js';

/** A known_hosts file's bytes, at most MAX_KNOWN_HOSTS_FILE_BYTES (symlinks followed). */
export async function readKnownHostsFile(path: string): Promise<Result<Uint8Array, ReadError>> {
  const read = await readRegularFileWithInfo(path, MAX_KNOWN_HOSTS_FILE_BYTES);
  return read.ok ? ok(read.value.data) : read;
}

export interface HashedInPlace extends HashCounts {
  /** False when nothing needed hashing: the file was left as it was. */
  readonly rewritten: boolean;
}

export type HashInPlaceError =
  | { readonly kind: 'read'; readonly error: ReadError }
  | { readonly kind: 'parse'; readonly error: KnownHostsError };

/**
 * Hashes the host names of the file at `path` in place. The file must not be a symlink (renaming
 * over it would replace the link); a file with any invalid line is left byte for byte as it was.
 */
export async function hashKnownHostsFileInPlace(
  path: string,
): Promise<Result<HashedInPlace, HashInPlaceError>> {
  const read = await readRegularFileWithInfo(path, MAX_KNOWN_HOSTS_FILE_BYTES, { noFollow: true });
  if (!read.ok) return err({ kind: 'read', error: read.error });
  const { data, info } = read.value;
  const hashed = hashKnownHostsData(data);
  if (!hashed.ok) return err({ kind: 'parse', error: hashed.error });
  const { bytes, ...counts } = hashed.value;
  const rewritten = counts.hashedNames > 0;
  if (rewritten) {
    // As root editing a user's file, the new file keeps the old one's owner from the start.
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    await writeFileAtomic(path, bytes, {
      mode: info.mode & 0o7777,
      ...(asRoot ? { owner: { uid: info.uid, gid: info.gid } } : {}),
    });
  }
  return ok({ rewritten, ...counts });
}

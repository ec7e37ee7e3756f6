/**
 * A writer for the "newc" cpio format the kernel unpacks into the initramfs. psm writes the archive
 * itself (instead of running cpio over a staging directory) so the build needs no root for device
 * nodes or ownership, and the bytes are deterministic: fixed mtime, inode numbers and entry order.
 */

/** Longest path the kernel's initramfs unpacker accepts (PATH_MAX). */
export const MAX_CPIO_PATH_BYTES = 4096;
const MAGIC = '070701';
const TRAILER = 'TRAILER!!!';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

interface Owned {
  /** Path inside the archive, relative (no leading '/'); "." is the root directory itself. */
  readonly path: string;
  readonly uid?: number;
  readonly gid?: number;
}
export type CpioEntry =
  | (Owned & { readonly kind: 'dir'; readonly mode: number })
  | (Owned & { readonly kind: 'file'; readonly mode: number; readonly data: Uint8Array })
  | (Owned & { readonly kind: 'symlink'; readonly target: string })
  | (Owned & {
      readonly kind: 'chardev';
      readonly mode: number;
      readonly major: number;
      readonly minor: number;
    });

/**
 * Serializes `entries` in path order (so parents precede children) with every timestamp set to
 * `mtime` (seconds). Throws on a malformed entry or a duplicate path: entries come from psm's own
 * recipe, so either is a bug, not bad input.
 */
export function writeCpio(entries: readonly CpioEntry[], mtime = 0): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const chunks: Buffer[] = [];
  let ino = 1;
  let previous: string | undefined;
  for (const entry of sorted) {
    if (entry.path === previous) throw new Error(`cpio: duplicate path ${entry.path}`);
    checkPath(entry.path);
    previous = entry.path;
    chunks.push(...encodeEntry(entry, ino, mtime));
    ino += 1;
  }
  chunks.push(...record(TRAILER, { ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0 }, Buffer.alloc(0)));
  return Buffer.concat(chunks);
}

function checkPath(path: string): void {
  // "." is the archive's root directory: its entry sets the mode of the guest's "/".
  if (path === '.') return;
  if (
    path.length === 0 ||
    path.startsWith('/') ||
    path.includes('\0') ||
    path.split('/').some((part) => part === '' || part === '.' || part === '..') ||
    Buffer.byteLength(path) > MAX_CPIO_PATH_BYTES
  )
    throw new Error(`cpio: bad path ${JSON.stringify(path)}`);
}

interface Header {
  readonly ino: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly mtime: number;
  readonly rdevMajor?: number;
  readonly rdevMinor?: number;
}

function encodeEntry(entry: CpioEntry, ino: number, mtime: number): Buffer[] {
  const owner = { uid: entry.uid ?? 0, gid: entry.gid ?? 0, ino, mtime };
  switch (entry.kind) {
    case 'dir':
      return record(entry.path, { ...owner, mode: S_IFDIR | perm(entry.mode), nlink: 2 }, Buffer.alloc(0));
    case 'file':
      return record(entry.path, { ...owner, mode: S_IFREG | perm(entry.mode), nlink: 1 }, entry.data);
    case 'symlink':
      if (entry.target.length === 0 || entry.target.includes('\0'))
        throw new Error(`cpio: bad symlink target for ${entry.path}`);
      return record(entry.path, { ...owner, mode: S_IFLNK | 0o777, nlink: 1 }, Buffer.from(entry.target));
    case 'chardev':
      return record(
        entry.path,
        {
          ...owner,
          mode: S_IFCHR | perm(entry.mode),
          nlink: 1,
          rdevMajor: entry.major,
          rdevMinor: entry.minor,
        },
        Buffer.alloc(0),
      );
  }
}

function perm(mode: number): number {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`cpio: bad mode ${mode}`);
  return mode;
}

function record(name: string, header: Header, data: Uint8Array): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`);
  const fields = [
    header.ino,
    header.mode,
    header.uid,
    header.gid,
    header.nlink,
    header.mtime,
    data.length,
    0, // devmajor
    0, // devminor
    header.rdevMajor ?? 0,
    header.rdevMinor ?? 0,
    nameBytes.length,
    0, // check: only used by the "crc" variant
  ];
  const head = Buffer.from(MAGIC + fields.map(hex8).join(''), 'ascii');
  return [head, nameBytes, padding(head.length + nameBytes.length), Buffer.from(data), padding(data.length)];
}

function hex8(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new Error(`cpio: field out of range ${value}`);
  return value.toString(16).padStart(8, '0');
}

function padding(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

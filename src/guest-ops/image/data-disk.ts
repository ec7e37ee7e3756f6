import { chown, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { ok, type Result } from '../../common/result.js';
import type { ImageError } from './errors.js';
import { runTool } from './host-tools.js';
import { GUEST_UID, GUEST_USER, PERSIST_DISK_MIB } from './recipe.js';

/**
 * The base of every clone's /persist disk: an ext4 file system with the empty layout, made from a
 * directory with `mkfs.ext4 -d` (no loop mount, no root needed) and converted to qcow2 so clones
 * can be linked overlays of it.
 */
const MKFS_TIMEOUT_MS = 120_000;
/** Fixed so two builds of the same inputs make the same file system identity. */
const FS_UUID = '5a2f3c1e-7b4d-4e8a-9c6f-0d1e2f3a4b5c';

export async function buildDataDisk(
  scratch: string,
  outFile: string,
  signal?: AbortSignal,
): Promise<Result<void, ImageError>> {
  const layout = join(scratch, 'persist-layout');
  const home = join(layout, 'home', GUEST_USER);
  await mkdir(join(layout, 'etc', 'ssh', 'authorized_keys'), { recursive: true, mode: 0o755 });
  await mkdir(join(layout, 'home'), { mode: 0o755 });
  await mkdir(home, { mode: 0o700 });
  // mkfs copies owners from the layout; without root the guest's /init fixes them on first boot.
  if (process.getuid?.() === 0) await chown(home, GUEST_UID, GUEST_UID);
  const raw = join(scratch, 'persist.raw');
  const handle = await open(raw, 'wx', 0o600);
  await handle.truncate(PERSIST_DISK_MIB * 1024 * 1024);
  await handle.close();
  const mkfs = await runTool(
    'mkfs.ext4',
    [
      '-q',
      '-F',
      '-L',
      'psm-persist',
      '-U',
      FS_UUID,
      '-E',
      `root_owner=0:0,hash_seed=${FS_UUID}`,
      '-d',
      layout,
      raw,
    ],
    { timeoutMs: MKFS_TIMEOUT_MS, signal },
  );
  if (!mkfs.ok) return mkfs;
  const convert = await runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, outFile], {
    timeoutMs: MKFS_TIMEOUT_MS,
    signal,
  });
  if (!convert.ok) return convert;
  return ok(undefined);
}

/** Reading a worker image directory: the manifest must be bounded, UTF-8, valid, and name real files. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_MANIFEST_BYTES,
  readWorkerImageManifest,
  serializeWorkerImageManifest,
  WORKER_IMAGE_FORMAT,
  WORKER_IMAGE_MANIFEST_FILE,
  type WorkerImageManifest,
} from '../../src/guest-ops/image/manifest.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const MANIFEST: WorkerImageManifest = {
  format: WORKER_IMAGE_FORMAT,
  kernel: 'vmlinux',
  initrd: 'initrd.cpio',
  baseDisk: 'persist-base.qcow2',
  append: 'console=ttyS0 quiet',
  kernelVersion: '6.1.0-56-amd64',
  guestUser: 'popc',
  qgaPortName: 'org.qemu.guest_agent.0',
  dhcpRenew: { path: '/bin/busybox', argv: ['udhcpc', '-i', 'eth0'] },
  allowedRpcs: ['guest-ping'],
  builtAt: '2026-11-26T20:53:00.855Z',
  inputs: { recipe: '2' },
};

describe('readWorkerImageManifest', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let n = 0;
  const imageDir = async (manifest: string | Buffer | undefined, files: string[]): Promise<string> => {
    const dir = join(temp.path, `img${(n += 1)}`);
    await mkdir(dir);
    if (manifest !== undefined) await writeFile(join(dir, WORKER_IMAGE_MANIFEST_FILE), manifest);
    for (const f of files) await writeFile(join(dir, f), 'x');
    return dir;
  };
  beforeAll(async () => {
    temp = await makeTempDir('image-manifest');
  });
  afterAll(async () => {
    await temp.remove();
  });

  it('reads a complete image', async () => {
    const dir = await imageDir(serializeWorkerImageManifest(MANIFEST), [
      'vmlinux',
      'initrd.cpio',
      'persist-base.qcow2',
    ]);
    expect(await readWorkerImageManifest(dir)).toEqual({ ok: true, value: MANIFEST });
  });

  it('names the first missing file', async () => {
    const dir = await imageDir(serializeWorkerImageManifest(MANIFEST), ['vmlinux', 'initrd.cpio']);
    const read = await readWorkerImageManifest(dir);
    expect(!read.ok && [read.error.code, read.error.file]).toEqual([
      'IMAGE_FILE_MISSING',
      join(dir, 'persist-base.qcow2'),
    ]);
  });

  it('no manifest, a directory as manifest, too large, not UTF-8, invalid: each has its code', async () => {
    const cases: Array<[Promise<string>, string]> = [
      [imageDir(undefined, []), 'IMAGE_MANIFEST_UNREADABLE'],
      [imageDir(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20), []), 'IMAGE_MANIFEST_INVALID'],
      [imageDir(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), []), 'IMAGE_MANIFEST_INVALID'],
      [imageDir('{"format":"psm-worker-image/v1"}', []), 'IMAGE_MANIFEST_INVALID'],
    ];
    for (const [dir, code] of cases) {
      const read = await readWorkerImageManifest(await dir);
      expect(!read.ok && read.error.code).toBe(code);
      expect(!read.ok && read.error.file).toMatch(/manifest\.json$/);
    }
    const asDir = await imageDir(undefined, []);
    await mkdir(join(asDir, WORKER_IMAGE_MANIFEST_FILE));
    const read = await readWorkerImageManifest(asDir);
    expect(!read.ok && read.error.code).toBe('IMAGE_MANIFEST_UNREADABLE');
  });
});

/**
 * `psm image build|show` through the real CLI entry point: a full build from this machine's Debian
 * packages into a temp dir, the cached no-op rebuild, show, and the refusals.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runPsmInProcess, type PsmRun } from '../helpers/run-psm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

function psm(...args: string[]): Promise<PsmRun> {
  return runPsmInProcess(args);
}

describe('psm image', () => {
  let temp: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    temp = await makeTempDir('image-cli');
  });
  afterEach(() => {
    process.exitCode = undefined;
  });
  afterAll(async () => {
    await temp.remove();
  });

  it('build makes a complete image, a second build is a no-op, show prints its manifest', async () => {
    const out = join(temp.path, 'image');
    const cache = join(temp.path, 'cache');
    const first = await psm('image', 'build', '--out', out, '--cache', cache, '--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const built = JSON.parse(first.stdout) as { rebuilt: boolean; manifest: { baseDisk: string } };
    expect(built.rebuilt).toBe(true);
    expect(built.manifest.baseDisk).toMatch(/^persist-base-[0-9a-f]{12}\.qcow2$/);
    expect((await readdir(out)).sort()).toEqual(
      ['initrd.cpio', 'manifest.json', built.manifest.baseDisk, 'vmlinux'].sort(),
    );
    // Scratch space (the unpacked kernel package) is gone; the .deb stays for the next build.
    expect(await readdir(cache)).toEqual(['debs']);
    expect((await readdir(temp.path)).sort()).toEqual(['cache', 'image']);

    const second = await psm('image', 'build', '--out', out, '--cache', cache, '--json');
    expect(second.code).toBe(0);
    const again = JSON.parse(second.stdout) as { rebuilt: boolean; manifest: { builtAt: string } };
    expect(again.rebuilt).toBe(false);

    const show = await psm('image', 'show', out, '--json');
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toEqual(built.manifest);
    const human = await psm('image', 'show', out);
    expect(human.stdout).toMatch(/^format: +psm-worker-image\/v1$/m);
    expect(human.stdout).toMatch(/^allowed rpcs: .*guest-exec/m);
  }, 300_000);

  it('show on a directory without an image: exit 3 with the code', async () => {
    const result = await psm('image', 'show', temp.path, '--json');
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'IMAGE_MANIFEST_UNREADABLE' } });
    expect(result.stderr).toMatch(/^psm: IMAGE_MANIFEST_UNREADABLE: /);
  });

  it('build refuses to replace a directory that is not a psm image, and a file', async () => {
    const foreign = join(temp.path, 'foreign');
    await mkdir(foreign);
    await writeFile(join(foreign, 'precious.txt'), 'keep me');
    const refused = await psm('image', 'build', '--out', foreign, '--cache', join(temp.path, 'cache2'));
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/IMAGE_OUT_INVALID/);
    expect(await readdir(foreign)).toEqual(['precious.txt']);
    const asFile = await psm(
      'image',
      'build',
      '--out',
      join(foreign, 'precious.txt'),
      '--cache',
      join(temp.path, 'c3'),
    );
    expect(asFile.code).toBe(4);
    expect(await stat(join(temp.path, 'c3')).catch(() => undefined)).toBeUndefined();
  });

  it('a cache directory that cannot be created is a coded failure (exit 7), not a crash', async () => {
    const out = join(temp.path, 'never');
    const file = join(temp.path, 'a-file');
    await writeFile(file, 'not a directory');
    const result = await psm('image', 'build', '--out', out, '--cache', join(file, 'cache'), '--json');
    expect(result.code).toBe(7);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'IMAGE_IO_FAILED' } });
    expect(await stat(out).catch(() => undefined)).toBeUndefined();
  }, 120_000);

  it('help has examples; a missing --out is a usage error', async () => {
    const help = await psm('image', 'build', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n {2}psm image build --out/);
    expect((await psm('image', 'show', '--help')).stdout).toMatch(/Examples:/);
    expect((await psm('image', 'build')).code).toBe(2);
  });
});

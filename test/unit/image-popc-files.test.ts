/**
 * The worker image's POP-C++ files (guest-popc-build.ts): taken from a POP-C++ build tree at
 * POP-C++'s real paths, and refused when the tree is not one scripts/popc-build.mjs made.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { popcFilesDigest, popcWorkerFiles } from '../../src/guest-ops/image/guest-popc-build.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dir: Awaited<ReturnType<typeof makeTempDir>>;

async function tree(
  name: string,
  parts: { popcobjrun?: string; programs?: Record<string, Buffer> },
): Promise<string> {
  const root = join(dir.path, name);
  await mkdir(join(root, 'root/usr/local/popc/services'), { recursive: true });
  if (parts.popcobjrun !== undefined)
    await writeFile(join(root, 'root/usr/local/popc/services/popcobjrun'), parts.popcobjrun);
  for (const [program, data] of Object.entries(parts.programs ?? {})) {
    await mkdir(join(root, 'programs', program), { recursive: true });
    await writeFile(join(root, 'programs', program, `${program}.obj`), data);
  }
  return root;
}

const ELF = Buffer.from('\x7fELF-static-code-file', 'latin1');

beforeAll(async () => {
  dir = await makeTempDir('image-popc');
});
afterAll(async () => dir.remove());

describe('popcWorkerFiles', () => {
  it("puts POP-C++'s popcobjrun, psm's runtime env and the code files at POP-C++'s paths", async () => {
    const root = await tree('good', { popcobjrun: '#!/bin/sh\necho real\n', programs: { psmsum: ELF } });
    const files = await popcWorkerFiles(root);
    expect(files.ok).toBe(true);
    if (!files.ok) return;
    expect(files.value.map((f) => [f.path, f.mode.toString(8)])).toStrictEqual([
      ['usr/local/popc/services/popcobjrun', '755'],
      ['usr/local/popc/etc/popc-runtime-env.sh', '644'],
      ['usr/local/popc/objects/psmsum.obj', '755'],
    ]);
    expect(files.value[1]?.data.toString()).toContain('POPC_HOST=127.0.0.1\n');
    expect(popcFilesDigest(files.value)).toMatch(/^[0-9a-f]{64}$/);
    const again = await popcWorkerFiles(root);
    expect(again.ok && popcFilesDigest(again.value)).toBe(popcFilesDigest(files.value));
  });

  it('refuses a tree without popcobjrun, without programs, or with a code file that is not ELF', async () => {
    const cases = [
      await tree('no-run', { programs: { psmsum: ELF } }),
      await tree('not-sh', { popcobjrun: 'MZ', programs: { psmsum: ELF } }),
      await tree('no-programs', { popcobjrun: '#!/bin/sh\n' }),
      await tree('not-elf', { popcobjrun: '#!/bin/sh\n', programs: { psmsum: Buffer.from('#!/bin/sh\n') } }),
      await tree('bad-name', { popcobjrun: '#!/bin/sh\n', programs: { 'Bad Name': ELF } }),
      join(dir.path, 'missing'),
    ];
    for (const root of cases) {
      const files = await popcWorkerFiles(root);
      expect({ root, code: files.ok ? 'ok' : files.error.code }).toStrictEqual({
        root,
        code: 'IMAGE_FILE_MISSING',
      });
    }
  });
});

/**
 * psm's newc writer, checked against the real GNU cpio: it lists and extracts what psm wrote with
 * the names, types, modes, owners, contents, link targets and device numbers psm asked for.
 */
import { lstat, mkdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { MAX_CPIO_PATH_BYTES, writeCpio, type CpioEntry } from '../../src/guest-ops/image/cpio.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const ENTRIES: CpioEntry[] = [
  { kind: 'dir', path: '.', mode: 0o755 },
  { kind: 'dir', path: 'etc', mode: 0o755 },
  { kind: 'file', path: 'etc/shadow', mode: 0o600, data: Buffer.from('root:*:1:0:99999:7:::\n') },
  { kind: 'file', path: 'init', mode: 0o755, data: Buffer.from('#!/bin/sh\n') },
  { kind: 'dir', path: 'home', mode: 0o755 },
  { kind: 'dir', path: 'home/popc', mode: 0o700, uid: 1000, gid: 1000 },
  { kind: 'file', path: 'home/popc/odd', mode: 0o640, uid: 1000, gid: 1000, data: Buffer.from('abc') },
  { kind: 'symlink', path: 'sh', target: '/bin/busybox' },
  { kind: 'dir', path: 'dev', mode: 0o755 },
  { kind: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
  { kind: 'file', path: 'empty', mode: 0o644, data: Buffer.alloc(0) },
];

describe('cpio newc writer', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let archive: Buffer;
  beforeAll(async () => {
    temp = await makeTempDir('image-cpio');
    archive = writeCpio(ENTRIES);
  });
  afterAll(async () => {
    await temp.remove();
  });

  it('is deterministic, 4-byte aligned and ends with the trailer', () => {
    expect(writeCpio([...ENTRIES].reverse()).equals(archive)).toBe(true);
    expect(archive.length % 4).toBe(0);
    expect(archive.includes(Buffer.from('TRAILER!!!\0'))).toBe(true);
  });

  it('GNU cpio lists every entry with the type, mode, owner and link psm wrote', async () => {
    const run = await runProgram('cpio', ['-itv', '--quiet', '--numeric-uid-gid'], {
      input: archive,
      timeoutMs: 30_000,
    });
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.toString().trim().split('\n');
    const byName = new Map(lines.map((l) => [/ [A-Z][a-z]{2} +\d+ +\d{4} (.*)$/.exec(l)?.[1] ?? '', l]));
    expect([...byName.keys()].sort()).toEqual(
      [
        '.',
        'dev',
        'dev/console',
        'empty',
        'etc',
        'etc/shadow',
        'home',
        'home/popc',
        'home/popc/odd',
        'init',
        'sh -> /bin/busybox',
      ].sort(),
    );
    expect(byName.get('etc/shadow')).toMatch(/^-rw------- +1 0 +0 +22 /);
    expect(byName.get('home/popc')).toMatch(/^drwx------ +2 1000 +1000 /);
    expect(byName.get('dev/console')).toMatch(/^crw------- +1 0 +0 +5, +1 /);
    expect(byName.get('sh -> /bin/busybox')).toMatch(/^lrwxrwxrwx /);
  });

  it('GNU cpio extracts the same contents and modes', async () => {
    const out = join(temp.path, 'x');
    await mkdir(out);
    const run = await runProgram('cpio', ['-id', '--quiet', '--no-absolute-filenames'], {
      input: archive,
      cwd: out,
      timeoutMs: 30_000,
    });
    expect(run.exitCode).toBe(0);
    expect(await readFile(join(out, 'etc/shadow'), 'utf8')).toBe('root:*:1:0:99999:7:::\n');
    expect((await lstat(join(out, 'etc/shadow'))).mode & 0o7777).toBe(0o600);
    expect((await lstat(join(out, 'init'))).mode & 0o7777).toBe(0o755);
    expect(await readFile(join(out, 'home/popc/odd'), 'utf8')).toBe('abc');
    expect(await readlink(join(out, 'sh'))).toBe('/bin/busybox');
    expect((await lstat(join(out, 'empty'))).size).toBe(0);
  });

  it('refuses malformed entries (a bug in the recipe, not bad input)', () => {
    const bad =
      (entry: CpioEntry): (() => Buffer) =>
      () =>
        writeCpio([entry]);
    expect(bad({ kind: 'dir', path: '/abs', mode: 0o755 })).toThrow(/bad path/);
    expect(bad({ kind: 'dir', path: 'a/../b', mode: 0o755 })).toThrow(/bad path/);
    expect(bad({ kind: 'dir', path: 'a//b', mode: 0o755 })).toThrow(/bad path/);
    expect(bad({ kind: 'dir', path: 'x'.repeat(MAX_CPIO_PATH_BYTES + 1), mode: 0o755 })).toThrow(/bad path/);
    expect(bad({ kind: 'file', path: 'f', mode: 0o10000, data: Buffer.alloc(0) })).toThrow(/bad mode/);
    expect(bad({ kind: 'symlink', path: 'l', target: '' })).toThrow(/symlink/);
    expect(() =>
      writeCpio([
        { kind: 'dir', path: 'd', mode: 0o755 },
        { kind: 'dir', path: 'd', mode: 0o700 },
      ]),
    ).toThrow(/duplicate/);
  });
});

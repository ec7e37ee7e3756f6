/**
 * Issue 9, defects 4, 8 and 9 on the vault side, as an operator meets them: the real CLI in
 * child processes, real FIFOs (mkfifo), real symlinks, a real unprivileged user.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { layoutOf } from '../../src/vault/layout.js';
import { PSM_BIN, runPsm, snapshotTree, tempLocation, type TempLocation } from '../helpers/vault-harness.js';

vi.setConfig({ testTimeout: 90_000 });
/** A FIFO would block psm forever: any run that takes this long has hung. */
const HANG_MS = 20_000;
let temp: TempLocation;
let loc: string[];

beforeEach(() => {
  temp = tempLocation();
  loc = ['--location', temp.location];
});
afterEach(() => temp.cleanup());

async function init(...extra: string[]): Promise<void> {
  const run = await runPsm(['init', ...loc, '--json', ...extra]);
  expect(run.code, run.stderr).toBe(0);
}

async function mkfifo(path: string): Promise<void> {
  const made = await runProgram('mkfifo', ['-m', '600', path], { timeoutMs: 10_000 });
  expect(made.exitCode).toBe(0);
}

describe('FIFOs where psm reads settings or secrets (defect 4)', () => {
  it('etc/psm.key as a FIFO: refused at once (exit 4), not waited on', async () => {
    await init();
    const { keyFile } = layoutOf(temp.location);
    rmSync(keyFile);
    await mkfifo(keyFile);
    const run = await runPsm(['vault', 'verify', ...loc], { timeoutMs: HANG_MS });
    expect(run.signal).toBeNull();
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('KEY_UNSAFE_PERMISSIONS');
    expect(run.stderr).toContain('not a regular file');
  });

  it('etc/virtual.conf as a FIFO: refused at once (exit 3)', async () => {
    await init();
    const { configFile } = layoutOf(temp.location);
    rmSync(configFile);
    await mkfifo(configFile);
    for (const args of [
      ['vault', 'list', ...loc],
      ['vault', 'set', 'secrets.a', ...loc],
    ]) {
      const run = await runPsm(args, { input: 'x', timeoutMs: HANG_MS });
      expect(run.signal).toBeNull();
      expect(run.code).toBe(3);
      expect(run.stderr).toContain('CONFIG_INVALID');
    }
  });

  it('--passphrase-file and --import-legacy as FIFOs: refused at once (exit 3), no tree created', async () => {
    const fifo = join(temp.root, 'fifo');
    await mkfifo(fifo);
    const pass = await runPsm(['init', ...loc, '--passphrase-file', fifo, '--kdf-cost', 'min'], {
      timeoutMs: HANG_MS,
    });
    expect(pass.signal).toBeNull();
    expect(pass.code).toBe(3);
    expect(pass.stderr).toContain('INPUT_NOT_REGULAR');
    const legacy = await runPsm(['init', ...loc, '--import-legacy', fifo], { timeoutMs: HANG_MS });
    expect(legacy.signal).toBeNull();
    expect(legacy.code).toBe(3);
    expect(legacy.stderr).toContain('LEGACY_INVALID');
    expect(existsSync(temp.location)).toBe(false);
  });

  it('a writer waiting on its passphrase does not hold the lock', async () => {
    const passFile = join(temp.root, 'pass');
    writeFileSync(passFile, 'correct horse\n', { mode: 0o600 });
    await init('--passphrase-file', passFile, '--kdf-cost', 'min');
    // Writer A: its secret on stdin, its passphrase on a pipe nobody writes to yet.
    const a = spawn(
      process.execPath,
      [PSM_BIN, 'vault', 'set', 'secrets.a', ...loc, '--passphrase-fd', '3'],
      {
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        env: { ...process.env, POPC_LOCATION: '' },
      },
    );
    const aDone = new Promise<number | null>((resolve) => a.on('close', resolve));
    a.stdin.end('value a');
    await sleep(2_000);
    // Writer B, meanwhile, does not wait at all and must get the lock.
    const b = await runPsm(
      ['vault', 'set', 'secrets.b', ...loc, '--passphrase-file', passFile, '--lock-wait', '0'],
      {
        input: 'value b',
      },
    );
    expect(b.code, b.stderr).toBe(0);
    (a.stdio[3] as NodeJS.WritableStream).end('correct horse\n');
    expect(await aDone).toBe(0);
    const list = await runPsm(['vault', 'list', ...loc, '--json']);
    const paths = (JSON.parse(list.stdout) as { secrets: { path: string }[] }).secrets.map((s) => s.path);
    expect(paths).toEqual(expect.arrayContaining(['secrets.a', 'secrets.b']));
  });
});

describe('secret bytes round-trip (defect 8)', () => {
  const get = (path: string, ...extra: string[]) =>
    runPsm(['vault', 'get', path, '--reveal', ...loc, ...extra]);

  it('--raw both ways: binary secrets ending in 0x0a or 0x0d come back byte for byte', async () => {
    await init();
    const secrets: Record<string, Buffer> = {
      'secrets.lf': Buffer.from([0x00, 0xff, 0x41, 0x0a]),
      'secrets.cr': Buffer.from([0x80, 0x0d]),
      'secrets.crlf': Buffer.from('abc\r\n'),
      'secrets.lflf': Buffer.from('abc\n\n'),
    };
    for (const [path, bytes] of Object.entries(secrets)) {
      const set = await runPsm(['vault', 'set', path, ...loc, '--raw'], { input: bytes });
      expect(set.code, set.stderr).toBe(0);
      const raw = await get(path, '--raw');
      expect(raw.code).toBe(0);
      expect(raw.stdoutBytes.equals(bytes), path).toBe(true);
      const json = JSON.parse((await get(path, '--json')).stdout) as { value: string; encoding: string };
      expect(Buffer.from(json.value, json.encoding as BufferEncoding).equals(bytes), path).toBe(true);
    }
  });

  it('without --raw, exactly one trailing \\n or \\r\\n is dropped; a lone \\r is kept', async () => {
    await init();
    const cases: [string, string, string][] = [
      ['secrets.cr', 'abc\r', 'abc\r'],
      ['secrets.lf', 'abc\n', 'abc'],
      ['secrets.crlf', 'abc\r\n', 'abc'],
      ['secrets.lflf', 'abc\n\n', 'abc\n'],
      ['secrets.space', ' abc \n', ' abc '],
    ];
    for (const [path, input, stored] of cases) {
      expect((await runPsm(['vault', 'set', path, ...loc], { input })).code).toBe(0);
      expect((await get(path, '--raw')).stdout, path).toBe(stored);
      // Without --raw, get adds one newline for the terminal.
      expect((await get(path)).stdout, path).toBe(`${stored}\n`);
    }
  });
});

describe('smaller ones (defect 9)', () => {
  it("init --location with a newline, or '', is refused up front (exit 2) and creates nothing", async () => {
    const bad = join(temp.root, 'a\nb', 'popc');
    const run = await runPsm(['init', '--location', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('BAD_LOCATION');
    expect(run.stderr).not.toContain('LEGACY_INVALID');
    expect(existsSync(join(temp.root, 'a\nb'))).toBe(false);
    const cwd = mkdtempSync(join(temp.root, 'cwd-'));
    for (const args of [
      ['init', '--location', ''],
      ['vault', 'list', '--location', ''],
    ]) {
      const empty = await runPsm(args, { cwd });
      expect(empty.code).toBe(2);
      expect(empty.stderr).toContain('BAD_LOCATION');
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a key file psm may not read (EACCES) exits 3, not 7', async () => {
    await init();
    const layout = layoutOf(temp.location);
    // Root reads any file: run psm as nobody, who may read the config but not the key.
    for (const dir of [temp.root, temp.location, layout.etcDir]) chmodSync(dir, 0o755);
    chmodSync(layout.configFile, 0o644);
    chownSync(layout.keyFile, 0, 0);
    const run = await runPsm(['vault', 'verify', ...loc], { uid: 65534, gid: 65534 });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('FILE_UNREADABLE');
    expect(run.stderr).toContain('EACCES');
  });

  it('a symlinked virtual.conf is refused on write (exit 4), the link and its target untouched', async () => {
    await init();
    const { configFile } = layoutOf(temp.location);
    const real = join(temp.root, 'virtual.conf.real');
    renameSync(configFile, real);
    symlinkSync(real, configFile);
    const before = readFileSync(real, 'utf8');
    const snapshot = snapshotTree(temp.root);
    const run = await runPsm(['vault', 'set', 'secrets.a', ...loc], { input: 'x' });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('CONFIG_SYMLINK');
    expect(lstatSync(configFile).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe(before);
    expect(snapshotTree(temp.root)).toEqual(snapshot);
  });
});

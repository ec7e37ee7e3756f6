import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { DEFAULT_WORKER_IMAGE_DIR, WORKER_IMAGE_ENV } from '../../src/guest-ops/image/manifest.js';
import { openDriver } from '../../src/guest-ops/driver-factory.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// `psm vm` by hand, as a person would use it: the built CLI (bin/psm.js -> dist/) against a real
// QEMU worker booted from the worker image.
const PSM = resolve('bin/psm.js');
const IMAGE = resolve(process.env[WORKER_IMAGE_ENV] ?? DEFAULT_WORKER_IMAGE_DIR);

describe('psm vm (CLI) with a real worker', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let vmDir: string;

  async function psm(args: string[], input?: string) {
    const outcome = await runProgram(process.execPath, [PSM, 'vm', ...args], {
      timeoutMs: 200_000,
      ...(input === undefined ? {} : { input }),
    });
    return { code: outcome.exitCode, stdout: outcome.stdout.toString(), stderr: outcome.stderr.toString() };
  }

  /** Runs psm and expects exit code `code`, showing stderr when it differs. */
  async function expectCode(args: string[], code: number) {
    const result = await psm(args);
    expect(result.code, `psm vm ${args.join(' ')}: ${result.stderr}`).toBe(code);
    return result;
  }

  beforeAll(async () => {
    temp = await makeTempDir('vm-cli');
    vmDir = join(temp.path, 'vms');
  });

  afterAll(async () => {
    await psm(['destroy', 'w1', '--vm-dir', vmDir]);
    await temp.remove();
  }, 60_000);

  it('refuses bad input with the documented exit codes before touching QEMU', async () => {
    expect((await psm(['clone', '../evil', '--vm-dir', vmDir, '--image', IMAGE])).code).toBe(2);
    const missing = await psm(['status', 'nobody', '--vm-dir', vmDir, '--json']);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'WORKER_NOT_FOUND' } });
    expect((await psm(['clone', 'w0', '--vm-dir', vmDir, '--image', join(temp.path, 'no-image')])).code).toBe(
      3,
    );
  }, 60_000);

  it('clones, starts, inspects, runs, copies, reverts, stops and destroys a worker', async () => {
    const base = ['--vm-dir', vmDir];
    expect((await psm(['clone', 'w1', ...base, '--image', IMAGE])).code).toBe(0);
    expect((await psm(['clone', 'w1', ...base, '--image', IMAGE])).code).toBe(4);
    const started = await psm(['start', 'w1', ...base, '--json']);
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ name: 'w1', power: 'running', agent: 'ready' });

    // While another process drives the worker, psm says so at once instead of waiting out a timeout.
    const driver = await openDriver({ kind: 'qemu', vmDirectory: vmDir });
    if (!driver.ok) throw new Error(driver.error.message);
    const holder = await driver.value.openWorker('w1');
    if (!holder.ok) throw new Error(holder.error.message);
    expect((await holder.value.readAddress()).ok).toBe(true);
    const busy = await psm(['exec', 'w1', ...base, '--json', '--', '/bin/true']);
    expect(busy.code).toBe(4);
    expect(JSON.parse(busy.stdout)).toMatchObject({ error: { code: 'WORKER_BUSY' } });
    const busyInspect = await psm(['inspect', 'w1', ...base, '--json']);
    expect(busyInspect.code).toBe(0);
    expect(JSON.parse(busyInspect.stdout)).toMatchObject({ power: 'running', details: { busy: true } });
    await holder.value.close();

    const status = JSON.parse((await psm(['status', 'w1', ...base, '--json'])).stdout);
    expect(status).toMatchObject({ power: 'running', agent: 'ready', address: { family: 'ipv4' } });
    expect(status.ssh.port).toBeGreaterThan(0);

    const ran = await psm([
      'exec',
      'w1',
      ...base,
      '--',
      '/bin/busybox',
      'printf',
      '[%s]',
      'a b',
      '$(id)',
      'x;y',
    ]);
    expect([ran.code, ran.stdout]).toEqual([0, '[a b][$(id)][x;y]']);
    // After PATH every argument is the program's, options included; psm's own go before PATH.
    const uname = await psm(['exec', 'w1', ...base, '/bin/uname', '-a']);
    expect(uname.code, uname.stderr).toBe(0);
    expect(uname.stdout).toMatch(/^Linux \S+ 6\./);
    const passed = await psm(['exec', 'w1', ...base, '--json', '/bin/busybox', 'echo', '-n', '--json', '-V']);
    expect(passed.code, passed.stderr).toBe(0);
    expect(JSON.parse(passed.stdout)).toMatchObject({ exitCode: 0, stdout: '--json -V' });

    // Ctrl-C and SIGTERM abort the running operation through main's one signal: ABORTED, exit 7.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const child = spawn(process.execPath, [PSM, 'vm', 'exec', 'w1', ...base, '--json', '/bin/sleep', '60']);
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
      // Killed once the guest program runs: the agent has answered guest-exec by then.
      await new Promise((done) => setTimeout(done, 3000));
      child.kill(signal);
      expect(await exited, signal).toBe(7);
      expect(JSON.parse(out)).toMatchObject({ error: { code: 'ABORTED' } });
    }
    const failed = await psm(['exec', 'w1', ...base, '--json', '--', '/bin/cat', '/nope']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ exitCode: 1, encoding: 'utf8' });
    const echoed = await psm(['exec', 'w1', ...base, '--stdin', '--', '/bin/cat'], 'from stdin');
    expect(echoed.stdout).toBe('from stdin');

    const hostIn = join(temp.path, 'in.txt');
    const hostOut = join(temp.path, 'out.txt');
    await writeFile(hostIn, 'payload\n');
    expect(
      (
        await psm([
          'copy-in',
          'w1',
          hostIn,
          '/persist/p.txt',
          ...base,
          '--mode',
          '0640',
          '--owner',
          '1000:1000',
        ])
      ).code,
    ).toBe(0);
    const out = await psm(['copy-out', 'w1', '/persist/p.txt', hostOut, ...base, '--json']);
    expect(JSON.parse(out.stdout)).toMatchObject({ guestMode: '0640', guestOwner: { uid: 1000, gid: 1000 } });
    expect(await readFile(hostOut, 'utf8')).toBe('payload\n');
    expect((await stat(hostOut)).mode & 0o777).toBe(0o600);
    expect((await psm(['copy-out', 'w1', '/persist/p.txt', hostOut, ...base])).code).toBe(4);

    await expectCode(['snapshot', 'w1', ...base], 0);
    await expectCode(['exec', 'w1', ...base, '--', '/bin/rm', '/persist/p.txt'], 0);
    const reverted = await psm(['revert', 'w1', ...base]);
    expect(reverted.code, reverted.stderr).toBe(0);
    expect((await psm(['exec', 'w1', ...base, '--', '/bin/cat', '/persist/p.txt'])).stdout).toBe('payload\n');
    expect((await psm(['revert', 'w1', ...base, '--snapshot', 'bad name'])).code).toBe(2);

    expect(JSON.parse((await psm(['list', ...base, '--json'])).stdout).workers).toEqual([
      { name: 'w1', power: 'running' },
    ]);
    await expectCode(['stop', 'w1', ...base], 0);
    expect(JSON.parse((await psm(['status', 'w1', ...base, '--json'])).stdout).power).toBe('stopped');
    expect((await psm(['exec', 'w1', ...base, '--', '/bin/true'])).code).toBe(4);
    await expectCode(['destroy', 'w1', ...base], 0);
    expect(await readdir(vmDir)).toEqual([]);
  }, 240_000);
});

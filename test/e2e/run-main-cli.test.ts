/**
 * `psm run-main` as the demo and an operator use it: the built CLI, a real `psm daemon` process
 * with psm's trust steps, a real QEMU worker from the shared image with its real sshd, and the
 * admin key's real gate. The application's main runs in its worker, its output comes back and its
 * exit code is psm's; what the gate refuses, and psm's own failures, come back coded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { openDriver, defaultVmDirectory } from '../../src/guest-ops/driver-factory.js';
import { DEFAULT_WORKER_IMAGE_DIR, WORKER_IMAGE_ENV } from '../../src/guest-ops/image/manifest.js';
import { layoutOf } from '../../src/vault/index.js';
import { ensureWorkerImage } from '../helpers/image-vm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const PSM = resolve('bin/psm.js');
const IMAGE = resolve(process.env[WORKER_IMAGE_ENV] ?? DEFAULT_WORKER_IMAGE_DIR);
let temp: { path: string; remove: () => Promise<void> };
let location: string;
let daemon: ChildProcess | undefined;
let worker: string;

async function psm(args: readonly string[], timeoutMs = 240_000) {
  const ran = await runProgram(process.execPath, [PSM, ...args], {
    timeoutMs,
    env: { ...process.env, POPC_LOCATION: location },
  });
  return { code: ran.exitCode, stdout: ran.stdout.toString(), stderr: ran.stderr.toString() };
}

/** `psm daemon` as a service runs it; resolves once it prints that it serves. */
async function startDaemon(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      PSM,
      'daemon',
      '--max-vms',
      '1',
      '--keep-free',
      '1',
      '--memory',
      '256',
      '--image',
      IMAGE,
      '--log-level',
      'warn',
      '--json',
    ],
    { env: { ...process.env, POPC_LOCATION: location }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolveLine);
    child.once('exit', (code) => reject(new Error(`psm daemon exited with ${code}`)));
  });
  expect(JSON.parse(line)).toMatchObject({ socket: expect.any(String) as string });
  return child;
}

beforeAll(async () => {
  await ensureWorkerImage();
  temp = await makeTempDir('run-main');
  location = join(temp.path, 'popc');
  expect((await psm(['init'])).code).toBe(0);
  const { policiesDir } = layoutOf(location);
  await mkdir(policiesDir, { recursive: true });
  for (const file of ['admin.yaml', 'main-node.yaml', 'initiator.yaml'])
    await copyFile(resolve('policies', file), join(policiesDir, file));
  daemon = await startDaemon();
  // Waits for the pool's first worker to be cloned, booted and prepared (slow under TCG).
  const reserved = await psm(['reserve', 'app1', '--wait', '900', '--json'], 960_000);
  expect(reserved.code, reserved.stderr).toBe(0);
  worker = (JSON.parse(reserved.stdout) as { worker: string }).worker;
}, 1_000_000);

afterAll(async () => {
  if (daemon !== undefined && daemon.exitCode === null) {
    const gone = new Promise((r) => daemon?.once('exit', r));
    daemon.kill('SIGTERM');
    await gone;
  }
  // The daemon leaves its workers running (the next daemon adopts them): destroy them here.
  if (location !== undefined) {
    const driver = await openDriver({ kind: 'qemu', vmDirectory: defaultVmDirectory(location) });
    if (driver.ok) {
      const listed = await driver.value.listWorkers();
      if (listed.ok) for (const w of listed.value) await driver.value.destroyWorker(w.name);
    }
  }
  await temp?.remove();
}, 180_000);

/** The audit log's last run-main.start subject and the run-main.end of the same run. */
async function lastRun(): Promise<{ start?: Record<string, unknown>; end?: Record<string, unknown> }> {
  const entries = (await readFile(join(location, 'var', 'psm', 'audit.log'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { action: string; subject: Record<string, unknown> });
  const start = entries.filter((e) => e.action === 'run-main.start').at(-1)?.subject;
  const end = entries.find((e) => e.action === 'run-main.end' && e.subject.run === start?.run)?.subject;
  return { start, end };
}

describe('psm run-main APP -- OBJECT ARGS through the worker gate', { timeout: 300_000 }, () => {
  it("streams the object's output and exits with its exit code 0", async () => {
    const ran = await psm(['run-main', 'app1', '--', 'hello', 'a', 'b']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^hello from \S+ \(uid \d+\): a b\n$/);
    expect(ran.stderr).toBe('');
    // The daemon recorded the run before it answered (the arguments' number, not their values).
    // And how it ended, under the same run id, as the CLI reported it.
    const { start, end } = await lastRun();
    expect(start).toEqual({
      app: 'app1',
      worker,
      object: 'hello',
      args: 2,
      run: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(end).toEqual({ app: 'app1', worker, object: 'hello', run: start?.run, exitCode: 0 });
  });

  it('--json prints one object with the output and the exit code', async () => {
    const ran = await psm(['run-main', 'app1', '--json', '--', 'hello', 'world']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({
      app: 'app1',
      worker,
      object: 'hello',
      args: ['world'],
      exitCode: 0,
      stdout: expect.stringMatching(/^hello from \S+ \(uid \d+\): world\n$/) as string,
      stderr: '',
    });
  });

  it("passes a failing object's nonzero exit code through (popcobjrun: no such object, 2)", async () => {
    const ran = await psm(['run-main', 'app1', '--json', '--', 'no-such-object']);
    expect(ran.code).toBe(2);
    const answer = JSON.parse(ran.stdout) as { exitCode: number; stderr: string; error?: unknown };
    expect(answer.error).toBeUndefined();
    expect(answer.exitCode).toBe(2);
    expect(answer.stderr).toMatch(
      /^popcobjrun: no such object: \/usr\/local\/popc\/objects\/no-such-object\n$/,
    );
    const human = await psm(['run-main', 'app1', '--', 'no-such-object']);
    expect([human.code, human.stdout]).toEqual([2, '']);
    expect(human.stderr).toMatch(/^popcobjrun: no such object/);
    expect((await lastRun()).end).toMatchObject({ object: 'no-such-object', exitCode: 2 });
  });

  it("what the worker's gate does not allow is refused there: exit 4, RUN_GATE_REFUSED", async () => {
    for (const object of ['.hidden', 'he;llo']) {
      const ran = await psm(['run-main', 'app1', '--json', '--', object]);
      expect(ran.code, ran.stderr).toBe(4);
      const { error } = JSON.parse(ran.stdout) as { error: { code: string; message: string } };
      expect(error.code).toBe('RUN_GATE_REFUSED');
      expect(error.message).toMatch(/policy admin/);
    }
    const argument = await psm(['run-main', 'app1', '--', 'hello', '$(id)']);
    expect(argument.code).toBe(4);
    expect(argument.stdout).toBe('');
    expect(argument.stderr).toMatch(
      /psm: RUN_GATE_REFUSED: the worker's gate refused it: policy admin: command has characters outside the safe set/,
    );
    // A refused run ends with psm's error code on the record.
    expect((await lastRun()).end).toMatchObject({ object: 'hello', error: 'RUN_GATE_REFUSED' });
  });

  it("psm's own failures: a path as OBJECT 2, an unknown application 3, no daemon 7", async () => {
    const path = await psm(['run-main', 'app1', '--json', '--', '../bin/sh']);
    expect([path.code, (JSON.parse(path.stdout) as { error: { code: string } }).error.code]).toEqual([
      2,
      'RUN_BAD_OBJECT',
    ]);
    const unknown = await psm(['run-main', 'nobody', '--json', '--', 'hello']);
    expect([unknown.code, (JSON.parse(unknown.stdout) as { error: { code: string } }).error.code]).toEqual([
      3,
      'APP_NOT_FOUND',
    ]);
    const none = await psm([
      'run-main',
      'app1',
      '--socket',
      join(temp.path, 'none.sock'),
      '--json',
      '--',
      'hello',
    ]);
    expect([none.code, (JSON.parse(none.stdout) as { error: { code: string } }).error.code]).toEqual([
      7,
      'DAEMON_UNREACHABLE',
    ]);
  });

  it('a second guest-agent client is refused while one drives a pool worker, and the daemon queues behind it instead of failing its step', async () => {
    // This test process plays an operator's `psm vm ...` that is connected to the worker's agent.
    const driver = await openDriver({ kind: 'qemu', vmDirectory: defaultVmDirectory(location) });
    if (!driver.ok) throw new Error(driver.error.message);
    const held = await driver.value.openWorker(worker);
    if (!held.ok) throw new Error(held.error.message);
    const status = await held.value.status({ probeAgent: true });
    expect(status.ok && status.value.agent).toBe('ready');

    const exec = await psm(['vm', 'exec', worker, '--json', '/bin/true']);
    expect(exec.code).toBe(4);
    const { error } = JSON.parse(exec.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe('WORKER_BUSY');
    expect(error.message).toMatch(/a psm daemon serves .* go through it/);

    let settled = false;
    const ending = psm(['end', 'app1', '--json']).finally(() => (settled = true));
    await sleep(3_000);
    const whileHeld = settled;
    await held.value.close();
    const ended = await ending;
    expect(whileHeld).toBe(false);
    expect(ended.code, ended.stderr).toBe(0);
    expect(JSON.parse(ended.stdout)).toMatchObject({ app: 'app1', worker, outcome: 'reverted' });

    // The daemon's agent stream came through intact: the worker serves the next application.
    const again = await psm(['reserve', 'app2', '--wait', '600', '--json'], 660_000);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { worker: string }).worker).toBe(worker);
    const ran = await psm(['run-main', 'app2', '--', 'hello', 'again']);
    expect([ran.code, ran.stdout]).toEqual([
      0,
      expect.stringMatching(/^hello from \S+ \(uid \d+\): again\n$/),
    ]);
  }, 900_000);
});

/**
 * The daemon's state is real SQLite and its process is really killed: kill -9 in the middle of a
 * reserve (its grant under way), restart, and nothing is leaked or doubled; SIGTERM then restart
 * keeps every assignment. The workers are directories (test/helpers/daemon-crash-child.mjs), so
 * they survive the daemon as QEMU VMs do; the built daemon (dist/) runs in a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callDaemon } from '../../src/jobmgr/client.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const ROOT = join(__dirname, '..', '..');
const CHILD = join(ROOT, 'test', 'helpers', 'daemon-crash-child.mjs');

interface Daemon {
  readonly child: ChildProcess;
  readonly socket: string;
}

async function startChild(location: string): Promise<Daemon> {
  const child = spawn(process.execPath, [CHILD, location], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the daemon exited with ${code}`)));
  });
  return { child, socket: (JSON.parse(first) as { socket: string }).socket };
}

async function call(d: Daemon, method: 'GET' | 'POST', path: string, body?: unknown) {
  const answer = await callDaemon(d.socket, method, path, body, { timeoutMs: 60_000 });
  if (!answer.ok) throw new Error(answer.error.message);
  return answer.value as { status: number; body: Record<string, unknown> };
}

type WorkerView = { name: string; state: string; app: string | null };

async function workers(d: Daemon): Promise<WorkerView[]> {
  return (await call(d, 'GET', '/v1/workers')).body.workers as WorkerView[];
}

/** Until nothing is being cloned, prepared or reverted. */
async function settled(d: Daemon): Promise<WorkerView[]> {
  for (let i = 0; i < 300; i++) {
    const list = await workers(d);
    if (
      list.every((w) => w.state === 'ready' || w.state === 'reserved') &&
      list.some((w) => w.state === 'ready')
    )
      return list;
    await sleep(20);
  }
  throw new Error('the pool did not settle');
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );
}

describe('psm daemon: kill -9 and SIGTERM (real SQLite, a real process)', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'dist', 'jobmgr', 'daemon', 'run.js')), 'run npm run build first').toBe(
      true,
    );
    dir = await makeTempDir('jobmgr-crash');
  });
  afterAll(async () => {
    daemon?.child.kill('SIGKILL');
    await dir.remove();
  });

  /** No VM without a row, no row without a VM, no VM holding the keys of two applications. */
  async function expectNoLeak(d: Daemon): Promise<WorkerView[]> {
    const list = await settled(d);
    const vms = (await readdir(join(dir.path, 'fake-vms'))).sort();
    expect(vms).toEqual(list.map((w) => w.name).sort());
    for (const vm of vms) {
      const state = JSON.parse(await readFile(join(dir.path, 'fake-vms', vm, 'state.json'), 'utf8')) as {
        keys: object;
      };
      expect(Object.keys(state.keys).length).toBeLessThanOrEqual(1);
    }
    expect(existsSync(join(dir.path, 'violations'))).toBe(false);
    return list;
  }

  it('kill -9 in the middle of a reserve: restart, no leaked VM, no worker with two applications, the reserve can be retried', async () => {
    daemon = await startChild(dir.path);
    await settled(daemon);
    const first = await call(daemon, 'POST', '/v1/reserve', { app: 'a', job: '1' });
    expect(first.status).toBe(200);
    const aWorker = first.body.worker as string;
    await settled(daemon);

    await writeFile(join(dir.path, 'slow-grant'), '');
    const cut = callDaemon(
      daemon.socket,
      'POST',
      '/v1/reserve',
      { app: 'b', job: '1' },
      { timeoutMs: 60_000 },
    );
    for (let i = 0; i < 500 && !existsSync(join(dir.path, 'granting')); i++) await sleep(10);
    expect(existsSync(join(dir.path, 'granting'))).toBe(true);
    daemon.child.kill('SIGKILL');
    await exited(daemon.child);
    const lost = await cut;
    expect(lost.ok).toBe(false);
    await rm(join(dir.path, 'slow-grant'));

    daemon = await startChild(dir.path);
    const list = await expectNoLeak(daemon);
    const apps = (await call(daemon, 'GET', '/v1/apps')).body.apps as { app: string; worker: string }[];
    expect(apps.map((a) => [a.app, a.worker])).toEqual([['a', aWorker]]);
    expect(list.filter((w) => w.app !== null).map((w) => w.name)).toEqual([aWorker]);

    const retried = await call(daemon, 'POST', '/v1/reserve', { app: 'b', job: '1' });
    expect(retried.status).toBe(200);
    expect(retried.body.worker).not.toBe(aWorker);
    const again = await call(daemon, 'POST', '/v1/reserve', { app: 'a', job: '2' });
    expect(again.body.worker).toBe(aWorker);
    await expectNoLeak(daemon);
  }, 120_000);

  it('SIGTERM, then restart: every assignment is kept', async () => {
    if (daemon === undefined) throw new Error('the first test starts the daemon');
    const before = (await call(daemon, 'GET', '/v1/apps')).body.apps as {
      app: string;
      worker: string;
      jobs: string[];
    }[];
    expect(before.length).toBe(2);
    daemon.child.kill('SIGTERM');
    expect(await exited(daemon.child)).toBe(0);
    expect(existsSync(daemon.socket)).toBe(false);
    daemon = await startChild(dir.path);
    const after = (await call(daemon, 'GET', '/v1/apps')).body.apps as {
      app: string;
      worker: string;
      jobs: string[];
    }[];
    expect(after.map((a) => [a.app, a.worker, a.jobs])).toEqual(before.map((a) => [a.app, a.worker, a.jobs]));
    await expectNoLeak(daemon);
  }, 120_000);

  it('a second daemon on the same location is refused (DAEMON_RUNNING), the first keeps serving', async () => {
    if (daemon === undefined) throw new Error('the first test starts the daemon');
    const second = spawn(process.execPath, [CHILD, dir.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const errors: Buffer[] = [];
    second.stderr.on('data', (c: Buffer) => errors.push(c));
    expect(await exited(second)).toBe(4);
    expect(Buffer.concat(errors).toString()).toMatch(/^DAEMON_RUNNING: /);
    expect((await call(daemon, 'GET', '/healthz')).status).toBe(200);
    daemon.child.kill('SIGTERM');
    expect(await exited(daemon.child)).toBe(0);
    daemon = undefined;
  }, 60_000);
});

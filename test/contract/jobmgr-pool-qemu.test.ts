/**
 * The pool with real QEMU workers (max_vms 3, keep_free 1), as far as psm's trust steps exist
 * today. Preparation is the interim one (boot, agent, clean snapshot; no host keys are pinned
 * yet: prepareWorker lands separately), and the key exchange is stood in for by a grant that
 * writes the application's keys to a file on the worker's disk through the guest agent, so the
 * test can see that an end really takes them away (the revert to the clean snapshot).
 * Part two runs the real `psm daemon` command: a kill -9 while a reserve waits for a clone being
 * prepared, then a restart that prepares it again, with no VM leaked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from '../../src/common/result.js';
import { createLogger } from '../../src/common/logger.js';
import { openDriver } from '../../src/guest-ops/driver-factory.js';
import type { GuestOpsDriver } from '../../src/guest-ops/guest-ops.js';
import { callDaemon } from '../../src/jobmgr/client.js';
import { openQemuLifecycle } from '../../src/jobmgr/daemon/configure.js';
import { startDaemon, type RunningDaemon } from '../../src/jobmgr/daemon/run.js';
import { snapshotOnlyPrepare } from '../../src/jobmgr/interim-steps.js';
import { DEFAULT_POOL_SETTINGS } from '../../src/jobmgr/settings.js';
import { workerImageDir, ensureWorkerImage } from '../helpers/image-vm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const ROOT = join(__dirname, '..', '..');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const keyFile = (app: string): string => `/persist/psm-app-${app}`;

describe('the worker pool with real QEMU workers (max_vms 3, keep_free 1)', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let vmDir: string;
  let driver: GuestOpsDriver;
  let daemon: RunningDaemon | undefined;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    await ensureWorkerImage();
    dir = await makeTempDir('jobmgr-qemu');
    vmDir = join(dir.path, 'var', 'psm', 'vms');
    const opened = await openDriver({ kind: 'qemu', vmDirectory: vmDir });
    if (!opened.ok) throw new Error(opened.error.message);
    driver = opened.value;
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await daemon?.stop();
    const listed = await driver.listWorkers();
    for (const w of listed.ok ? listed.value : []) await driver.destroyWorker(w.name);
    await dir.remove();
  });

  async function start(): Promise<RunningDaemon> {
    const lifecycle = await openQemuLifecycle({
      vmDirectory: vmDir,
      imageDirectory: workerImageDir(),
      memoryMiB: 256,
      steps: {
        prepare: snapshotOnlyPrepare,
        // The key exchange's stand-in: the keys go to a file on the worker's own disk.
        grant: async (worker, appId, keys) => {
          const wrote = await worker.copyToGuest(
            Buffer.from(keys.map((k) => k.key).join('\n')),
            keyFile(appId),
          );
          return wrote.ok
            ? ok(undefined)
            : { ok: false, error: { code: wrote.error.code, message: wrote.error.message } };
        },
        revoke: async (worker, appId) => {
          const gone = await worker.runProgram('/bin/busybox', ['rm', '-f', keyFile(appId)]);
          return gone.ok
            ? ok(undefined)
            : { ok: false, error: { code: gone.error.code, message: gone.error.message } };
        },
      },
    });
    if (!lifecycle.ok) throw new Error(lifecycle.error.message);
    const started = await startDaemon({
      location: dir.path,
      lifecycle: lifecycle.value,
      settings: { ...DEFAULT_POOL_SETTINGS, namePrefix: 'w-', maxVms: 3, keepFree: 1 },
      log: createLogger({ level: 'error' }),
      maintenanceMs: 500,
    });
    if (!started.ok) throw new Error(started.error.message);
    return started.value;
  }

  async function post(path: string, body: unknown) {
    const answer = await callDaemon(join(dir.path, 'var', 'psm', 'psm.sock'), 'POST', path, body, {
      timeoutMs: 180_000,
    });
    if (!answer.ok) throw new Error(answer.error.message);
    return answer.value as { status: number; body: Record<string, unknown> };
  }

  async function until(what: string, check: () => boolean | Promise<boolean>, ms = 180_000): Promise<void> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) if (await check()) return;
    throw new Error(`timed out waiting for ${what}`);
  }

  async function guestHas(worker: string, path: string): Promise<boolean> {
    const opened = await driver.openWorker(worker);
    if (!opened.ok) throw new Error(opened.error.message);
    try {
      const read = await opened.value.copyFromGuest(path);
      if (read.ok) return true;
      if (read.error.code === 'AGENT_ERROR') return false;
      throw new Error(`${read.error.code}: ${read.error.message}`);
    } finally {
      await opened.value.close();
    }
  }

  it('two applications get two prepared workers, a second job the same one, an end reverts and frees it, the pool refills', async () => {
    daemon = await start();
    const pool = daemon.pool;
    await until('the first prepared worker', () => pool.status().free === 1);
    const [a, b] = await Promise.all([
      post('/v1/reserve', { app: 'A', job: '1', keys: [{ key: KEY }] }),
      post('/v1/reserve', { app: 'B', job: '1', keys: [{ role: 'initiator', key: KEY }] }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.worker).not.toBe(b.body.worker);
    expect(a.body.ssh).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) as number });
    const aWorker = a.body.worker as string;
    const second = await post('/v1/reserve', { app: 'A', job: '2' });
    expect(second.body.worker).toBe(aWorker);
    expect(await guestHas(aWorker, keyFile('A'))).toBe(true);

    await until('the refill up to keep_free', () => pool.status().free === 1 && pool.status().total === 3);

    const ended = await post('/v1/end', { app: 'A' });
    expect(ended.body).toMatchObject({ worker: aWorker, outcome: 'reverted' });
    expect(await guestHas(aWorker, keyFile('A'))).toBe(false);
    expect(pool.store.worker(aWorker)).toMatchObject({ state: 'ready', reverts: 1 });

    // Two free now; the longest-ready goes first, then the reverted one serves the next application.
    const c = await post('/v1/reserve', { app: 'C', job: '1' });
    const d = await post('/v1/reserve', { app: 'D', job: '1' });
    expect([c.body.worker, d.body.worker]).toContain(aWorker);
    const exhausted = await post('/v1/reserve', { app: 'E', job: '1', waitMs: 1_000 });
    expect(exhausted.status).toBe(409);
    expect((exhausted.body.error as { code: string }).code).toBe('POOL_EXHAUSTED');
    expect(pool.store.checkInvariants()).toEqual([]);
  }, 600_000);

  it('graceful stop, then restart: every assignment kept, the VMs ran on', async () => {
    if (daemon === undefined) throw new Error('the first test starts the daemon');
    const before = daemon.pool.store.apps().map((x) => [x.appId, x.worker]);
    await daemon.stop();
    daemon = await start();
    expect(daemon.reconciled.kept.length).toBe(3);
    expect(daemon.pool.store.apps().map((x) => [x.appId, x.worker])).toEqual(before);
    await daemon.stop();
    daemon = undefined;
  }, 300_000);

  it('psm daemon: kill -9 while a reserve waits for a clone; the restart prepares it again, no VM leaked, the reserve can be retried', async () => {
    const psm = (args: string[]) =>
      spawn(process.execPath, [join(ROOT, 'bin', 'psm.js'), ...args, '--location', dir.path], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const startCli = async (): Promise<ChildProcess> => {
      const p = psm([
        'daemon',
        '--max-vms',
        '3',
        '--keep-free',
        '1',
        '--on-app-end',
        'destroy',
        '--image',
        workerImageDir(),
        '--memory',
        '256',
        '--untrusted-workers',
        '--json',
        '--log-level',
        'warn',
      ]);
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: p.stdout as NodeJS.ReadableStream }).once('line', resolve);
        p.once('exit', (code) => reject(new Error(`psm daemon exited with ${code}`)));
      });
      expect(JSON.parse(line)).toMatchObject({ socket: join(dir.path, 'var', 'psm', 'psm.sock') });
      return p;
    };
    const run = async (args: string[]) => {
      const p = psm(args);
      const out: Buffer[] = [];
      p.stdout?.on('data', (x: Buffer) => out.push(x));
      const code = await new Promise<number | null>((resolve) => p.once('exit', resolve));
      return { code, stdout: Buffer.concat(out).toString() };
    };
    child = await startCli();
    const ended = await run(['end', 'B', '--json']);
    expect(ended.code).toBe(0);
    expect(JSON.parse(ended.stdout)).toMatchObject({ app: 'B', outcome: 'destroyed' });
    // The pool refills the freed slot; while that clone is prepared, a reserve waits for it.
    const waiting = run(['reserve', 'F', '--json']);
    await until('a worker being prepared', async () => {
      const w = await run(['workers', 'list', '--json']);
      return (JSON.parse(w.stdout) as { workers: { state: string }[] }).workers.some((x) =>
        ['cloning', 'booting', 'preparing'].includes(x.state),
      );
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));
    expect((await waiting).code).toBe(7);

    child = await startCli();
    const retried = await run(['reserve', 'F', '--json']);
    expect(retried.code).toBe(0);
    const answer = JSON.parse(retried.stdout) as {
      app: string;
      worker: string;
      ssh: { host: string; port: number };
      hostKeys: string[];
    };
    expect(answer).toMatchObject({ app: 'F', ssh: { host: '127.0.0.1' } });
    expect(Array.isArray(answer.hostKeys)).toBe(true);
    const workers = JSON.parse((await run(['workers', 'list', '--json'])).stdout) as {
      workers: { name: string; app: string | null }[];
    };
    const apps = workers.workers.map((w) => w.app).filter((x) => x !== null);
    expect(new Set(apps).size).toBe(apps.length);
    expect(workers.workers.length).toBeLessThanOrEqual(3);
    // No leak: every VM directory is a worker of the pool's state, and the other way round.
    const dirs = (await readdir(vmDir)).sort();
    expect(dirs).toEqual(workers.workers.map((w) => w.name).sort());
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child?.once('exit', resolve))).toBe(0);
    child = undefined;
  }, 600_000);
});

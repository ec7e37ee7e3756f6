// The job manager's daemon: reserve through the Unix socket from a warm pool (p50/p99; with the
// in-memory workers, which is the daemon's own cost: socket, JSON, SQLite transactions, and with
// real QEMU workers) beside a reserve that has to clone and prepare a worker; a linked clone alone
// beside `qemu-img create` (what the driver runs); the idle RSS of `psm daemon`. Prints figures;
// never fails on time. Needs `npm run build` and the worker image (.cache/worker-image).
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { load, root, timeMs } from '../bench-support/timing.mjs';

const { startDaemon } = await load('jobmgr/daemon/run.js');
const { MemoryLifecycle } = await load('jobmgr/memory-lifecycle.js');
const { openQemuLifecycle } = await load('jobmgr/daemon/configure.js');
const { callDaemon } = await load('jobmgr/client.js');
const { createLogger } = await load('common/logger.js');
const { DEFAULT_POOL_SETTINGS } = await load('jobmgr/settings.js');
const { openDriver, openTemplate } = await load('guest-ops/driver-factory.js');

const imageDir = process.env.PSM_WORKER_IMAGE ?? join(root, '.cache', 'worker-image');
const quiet = createLogger({ level: 'error' });
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const percentile = (values, p) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))];

function must(result, what) {
  if (!result.ok) throw new Error(`${what}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function daemonAt(location, lifecycle, settings) {
  return must(
    await startDaemon({
      location,
      lifecycle,
      settings: { ...DEFAULT_POOL_SETTINGS, namePrefix: 'w-', ...settings },
      log: quiet,
      maintenanceMs: 1000,
    }),
    'daemon',
  );
}

async function until(check) {
  for (let i = 0; i < 1500 && !(await check()); i++) await sleep(100);
}

async function reserveCycles(daemon, count, afterEach) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const call = async (path, body) =>
    must(await callDaemon(daemon.paths.socket, 'POST', path, body, { agent, timeoutMs: 300_000 }), path);
  const times = [];
  for (let i = 0; i < count; i++) {
    await afterEach?.();
    let answer;
    times.push(
      await timeMs(async () => (answer = await call('/v1/reserve', { app: `bench-${i}`, job: 'j' }))),
    );
    if (answer.status !== 200) throw new Error(JSON.stringify(answer.body));
    await call('/v1/end', { app: `bench-${i}` });
  }
  agent.destroy();
  return times;
}

export async function run() {
  const temp = await mkdtemp(join(tmpdir(), 'psm-bench-daemon-'));
  try {
    // 1. The daemon's own cost: in-memory workers, real socket and SQLite.
    const memory = await daemonAt(join(temp, 'mem'), new MemoryLifecycle(), { maxVms: 4, keepFree: 2 });
    await until(() => memory.pool.status().free >= 1);
    const warmMem = await reserveCycles(memory, 1000, () => until(() => memory.pool.status().free >= 1));
    await memory.stop();
    console.log(
      `warm reserve through the socket, in-memory workers (1000): p50 ${fmt(percentile(warmMem, 50))}, p99 ${fmt(percentile(warmMem, 99))} (target p99 <= 50 ms)`,
    );

    // 2. Real QEMU workers: warm reserves (each ended: revert), then reserves that must clone and prepare.
    const location = join(temp, 'qemu');
    const vmDirectory = join(location, 'var', 'psm', 'vms');
    const lifecycle = must(
      await openQemuLifecycle({ vmDirectory, imageDirectory: imageDir, memoryMiB: 256 }),
      'lifecycle',
    );
    const real = await daemonAt(location, lifecycle, { maxVms: 2, keepFree: 1 });
    await until(() => real.pool.status().free >= 1);
    const warmReal = await reserveCycles(real, 20, () => until(() => real.pool.status().free >= 1));
    await real.pool.drain();
    await real.stop();
    console.log(
      `warm reserve through the socket, QEMU workers (20): p50 ${fmt(percentile(warmReal, 50))}, p99 ${fmt(percentile(warmReal, 99))}`,
    );
    const cold = await daemonAt(location, lifecycle, { maxVms: 1, keepFree: 0, onAppEnd: 'destroy' });
    const coldReal = await reserveCycles(cold, 3);
    await cold.stop();
    console.log(
      `reserve that clones, boots and prepares a worker (3): median ${fmt(percentile(coldReal, 50))} (${(percentile(coldReal, 50) / percentile(warmReal, 50)).toFixed(0)}x the warm one)`,
    );

    // 3. A linked clone alone, beside the qemu-img create the driver runs for it.
    const driver = must(await openDriver({ kind: 'qemu', vmDirectory: join(temp, 'clones') }), 'driver');
    const template = must(await openTemplate({ kind: 'worker-image', directory: imageDir }), 'template');
    const clones = [];
    const imgs = [];
    for (let i = 0; i < 10; i++) {
      clones.push(
        await timeMs(async () => (await must(await driver.cloneWorker(`c${i}`, template), 'clone')).close()),
      );
      imgs.push(
        await timeMs(() =>
          promisify(execFile)('qemu-img', [
            'create',
            '-q',
            '-f',
            'qcow2',
            '-b',
            template.baseDisk,
            '-F',
            'qcow2',
            join(temp, `img${i}.qcow2`),
          ]),
        ),
      );
      must(await driver.destroyWorker(`c${i}`), 'destroy');
    }
    const c50 = percentile(clones, 50);
    const i50 = percentile(imgs, 50);
    console.log(
      `linked clone (10): median ${fmt(c50)} (target <= 100 ms) | qemu-img create: ${fmt(i50)} | ratio ${(c50 / i50).toFixed(2)}`,
    );

    // 4. Idle RSS of `psm daemon` (real QEMU lifecycle, one prepared worker, nothing to do).
    const rssLocation = join(temp, 'rss');
    const child = spawn(
      process.execPath,
      [
        join(root, 'bin', 'psm.js'),
        'daemon',
        '--location',
        rssLocation,
        '--max-vms',
        '1',
        '--keep-free',
        '1',
        '--image',
        imageDir,
        '--memory',
        '256',
        '--untrusted-workers',
        '--json',
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise((resolve) =>
      createInterface({ input: child.stdout }).once('line', resolve),
    );
    const socket = JSON.parse(line).socket;
    await until(async () => {
      const answer = await callDaemon(socket, 'GET', '/v1/pool');
      return answer.ok && answer.value.body.free === 1;
    });
    await sleep(3000);
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    const rssDriver = must(
      await openDriver({ kind: 'qemu', vmDirectory: join(rssLocation, 'var', 'psm', 'vms') }),
      'driver',
    );
    for (const w of must(await rssDriver.listWorkers(), 'list')) await rssDriver.destroyWorker(w.name);
    console.log(
      `psm daemon idle RSS (one prepared worker): ${(rssKb / 1024).toFixed(1)} MiB (target <= 80 MiB)`,
    );
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

// psm run-main: the application's main run in its worker through the daemon and the admin gate,
// as a whole `psm run-main APP -- hello x` process (CLI start, the daemon's check and audit entry,
// an SSH login with the pinned host key, the gate, popcobjrun), beside what an operator would run
// by hand: `ssh -i ADMIN_KEY` with psm's known_hosts, straight to the same gate. One real
// `psm daemon` process and one QEMU worker from the shared image. Prints; never fails on time.
import { spawn, execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { median, root, timeMs, load } from '../bench-support/timing.mjs';

const run_ = promisify(execFile);
const ROUNDS = 10;
const PSM = join(root, 'bin', 'psm.js');
const fmt = (ms) => `${ms.toFixed(0)} ms`;

export async function run() {
  const imageDir = process.env.PSM_WORKER_IMAGE ?? join(root, '.cache', 'worker-image');
  const { layoutOf } = await load('vault/index.js');
  const { knownHostsPath } = await load('psm/host-keys/pin-store.js');
  const { openDriver, defaultVmDirectory } = await load('guest-ops/driver-factory.js');
  const temp = await mkdtemp(join(tmpdir(), 'psm-bench-run-main-'));
  const location = join(temp, 'popc');
  const env = { ...process.env, POPC_LOCATION: location };
  const psm = (args, timeout = 600_000) => run_(process.execPath, [PSM, ...args], { env, timeout });
  let daemon;
  try {
    await psm(['init']);
    const { policiesDir, adminKey } = layoutOf(location);
    await mkdir(policiesDir, { recursive: true });
    for (const file of ['admin.yaml', 'main-node.yaml', 'initiator.yaml'])
      await copyFile(join(root, 'policies', file), join(policiesDir, file));
    daemon = spawn(
      process.execPath,
      [
        PSM,
        'daemon',
        '--max-vms',
        '1',
        '--keep-free',
        '1',
        '--image',
        imageDir,
        '--log-level',
        'error',
        '--json',
      ],
      { env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolve, reject) => {
      createInterface({ input: daemon.stdout }).once('line', resolve);
      daemon.once('exit', (code) => reject(new Error(`psm daemon exited with ${code}`)));
    });
    const reserved = JSON.parse((await psm(['reserve', 'bench', '--wait', '900', '--json'], 960_000)).stdout);
    const ssh = [
      '-F',
      '/dev/null',
      '-i',
      adminKey,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${knownHostsPath(location)}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      `HostKeyAlias=${reserved.worker}`,
      '-p',
      String(reserved.ssh.port),
      '-T',
      `popc@${reserved.ssh.host}`,
      'popcobjrun',
      '/usr/local/popc/objects/hello',
      'x',
    ];
    const psmTimes = [];
    const sshTimes = [];
    for (let i = 0; i < ROUNDS; i++) {
      psmTimes.push(await timeMs(() => psm(['run-main', 'bench', '--', 'hello', 'x'])));
      sshTimes.push(await timeMs(() => run_('ssh', ssh, { timeout: 120_000 })));
    }
    console.log(
      `psm run-main bench -- hello x (whole process, ${ROUNDS} runs): median ${fmt(median(psmTimes))}`,
    );
    console.log(
      `ssh -i admin key ... popcobjrun hello x (same worker, same gate): median ${fmt(median(sshTimes))}`,
    );
    console.log(`ratio psm/ssh: ${(median(psmTimes) / median(sshTimes)).toFixed(2)}x`);
  } finally {
    if (daemon !== undefined && daemon.exitCode === null) {
      const gone = new Promise((resolve) => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      await gone;
    }
    const driver = await openDriver({ kind: 'qemu', vmDirectory: defaultVmDirectory(location) });
    if (driver.ok) {
      const listed = await driver.value.listWorkers();
      if (listed.ok) for (const w of listed.value) await driver.value.destroyWorker(w.name);
    }
    await rm(temp, { recursive: true, force: true });
  }
}

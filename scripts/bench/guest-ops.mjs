// Guest operations through the QEMU driver on one real worker (TCG unless KVM is usable): boot to
// a working agent, a program run through the agent against the same run through ssh (the tool a
// user would otherwise use; key installed through guest ops, host key pinned from the guest), a
// 1 MiB copy-in against scp, savevm and revert (loadvm + agent resync + DHCP renew), power off.
// Prints figures; never fails on time. Needs `npm run build` and the worker image first.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { QemuDriver, templateFromImage } = await load('guest-ops/qemu/index.js');
const { runProgram } = await load('common/run-program.js');
const EXEC_RUNS = 20;
const SSH_RUNS = 5;

function must(result, what) {
  if (!result.ok) throw new Error(`${what}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(fn) {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

const fmt = (ms) => `${ms.toFixed(1)} ms`;

export async function run() {
  const imageDir = process.env.PSM_WORKER_IMAGE ?? join(root, '.cache', 'worker-image');
  const template = must(await templateFromImage(imageDir), 'worker image');
  const temp = await mkdtemp(join(tmpdir(), 'psm-bench-go-'));
  const driver = new QemuDriver({ vmRoot: join(temp, 'vms') });
  try {
    const worker = must(await driver.cloneWorker('bench', template), 'clone');
    const boot = await timed(async () => {
      must(await worker.powerOn(), 'power on');
      must(await worker.waitForAgent(), 'agent');
    });
    const status = must(await worker.status(), 'status');
    console.log(`boot to a working agent (${status.details.accelerator}): ${fmt(boot.ms)}`);

    // ssh set-up through guest ops: user key in, host key out (pinned, no TOFU).
    const key = join(temp, 'id_ed25519');
    await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key], { timeoutMs: 30_000 });
    must(await worker.runProgram('/bin/mkdir', ['-p', '/persist/etc/ssh/authorized_keys']), 'mkdir');
    must(
      await worker.copyToGuest(await readFile(`${key}.pub`), '/persist/etc/ssh/authorized_keys/popc', {
        mode: 0o644,
      }),
      'key',
    );
    const hostKey = must(await worker.copyFromGuest('/persist/etc/ssh/ssh_host_ed25519_key.pub'), 'host key');
    const port = status.ssh.port;
    const knownHosts = join(temp, 'known_hosts');
    await writeFile(
      knownHosts,
      `[127.0.0.1]:${port} ${Buffer.from(hostKey.data).toString().split(' ').slice(0, 2).join(' ')}\n`,
    );
    const sshOpts = [
      '-i',
      key,
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
    ];

    const agentRuns = [];
    for (let i = 0; i < EXEC_RUNS; i += 1)
      agentRuns.push((await timed(async () => must(await worker.runProgram('/bin/true', []), 'exec'))).ms);
    const sshRuns = [];
    for (let i = 0; i < SSH_RUNS; i += 1) {
      const r = await timed(() =>
        runProgram('ssh', [...sshOpts, '-p', String(port), 'popc@127.0.0.1', '/bin/true'], {
          timeoutMs: 60_000,
        }),
      );
      if (r.value.exitCode !== 0) throw new Error(`ssh failed: ${r.value.stderr.toString()}`);
      sshRuns.push(r.ms);
    }
    const agentMedian = median(agentRuns);
    const sshMedian = median(sshRuns);
    console.log(
      `run /bin/true: agent ${fmt(agentMedian)} (median of ${EXEC_RUNS}), ssh ${fmt(sshMedian)} (median of ${SSH_RUNS}); ssh/agent = ${(sshMedian / agentMedian).toFixed(1)}x`,
    );

    const payload = randomBytes(1024 * 1024);
    const localFile = join(temp, 'payload');
    await writeFile(localFile, payload);
    const copyIn = await timed(async () =>
      must(await worker.copyToGuest(payload, '/persist/home/popc/payload-agent', { mode: 0o644 }), 'copy'),
    );
    const scp = await timed(() =>
      runProgram(
        'scp',
        [...sshOpts, '-P', String(port), '-q', localFile, 'popc@127.0.0.1:/persist/home/popc/payload-scp'],
        { timeoutMs: 120_000 },
      ),
    );
    if (scp.value.exitCode !== 0) throw new Error(`scp failed: ${scp.value.stderr.toString()}`);
    console.log(
      `copy 1 MiB into the guest: agent ${fmt(copyIn.ms)} (with mode, atomic rename), scp ${fmt(scp.ms)}; scp/agent = ${(scp.ms / copyIn.ms).toFixed(2)}x`,
    );
    const copyOut = await timed(async () =>
      must(await worker.copyFromGuest('/persist/home/popc/payload-agent'), 'copy out'),
    );
    console.log(`copy 1 MiB out of the guest: agent ${fmt(copyOut.ms)}`);

    const saves = [];
    const reverts = [];
    for (let i = 0; i < 3; i += 1) {
      saves.push((await timed(async () => must(await worker.takeSnapshot('clean'), 'savevm'))).ms);
      reverts.push((await timed(async () => must(await worker.revertToSnapshot('clean'), 'revert'))).ms);
    }
    console.log(
      `savevm: ${fmt(median(saves))}; revert (loadvm + agent resync + DHCP renew): ${fmt(median(reverts))} (medians of 3)`,
    );
    const off = await timed(async () => must(await worker.powerOff(), 'power off'));
    console.log(`power off (ACPI, clean unmount of /persist): ${fmt(off.ms)}`);
  } finally {
    await driver.destroyWorker('bench');
    await rm(temp, { recursive: true, force: true });
  }
}

// host-keys: (1) one clone's host key made in process (generate + openssh-key-v1 file + .pub line +
// SHA256 fingerprint) against what an admin would otherwise run per clone,
// `ssh-keygen -t TYPE -N '' -f FILE` as a process (which does the same three things), measured
// in the same run. In process, keys are timed after a warm-up, as a batch (total / count): psm
// makes them in a long-lived process, the first call pays for loading OpenSSL's code.
// (2) `prepareWorker` on a real worker (QEMU, TCG unless KVM is usable), broken into its steps
// and guest operations with their counts, beside the usual way of giving a clone a key:
// `ssh-keygen -A` run in the guest through the agent, then each `.pub` read back.
// Prints figures; never fails on time. Needs `npm run build` and the worker image.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, root, samples } from '../bench-support/timing.mjs';

const WARM_UP = 200;

function must(result, what) {
  if (!result.ok) throw new Error(`${what}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function generation(dir) {
  const { runProgram } = await load('common/run-program.js');
  const { generateSshKeyPair, wipeKeyPair } = await load('authorized-keys/keys/index.js');
  for (const algorithm of ['ed25519', 'ecdsa', 'rsa']) {
    const count = algorithm === 'rsa' ? 5 : 2000;
    const make = () => wipeKeyPair(generateSshKeyPair(algorithm, 'root@worker'));
    for (let i = 0; i < (algorithm === 'rsa' ? 1 : WARM_UP); i += 1) make();
    const start = process.hrtime.bigint();
    for (let i = 0; i < count; i += 1) make();
    const inProcess = Number(process.hrtime.bigint() - start) / 1e6 / count;
    let n = 0;
    const keygen = await samples(algorithm === 'rsa' ? 5 : 20, async () => {
      n += 1;
      const bits = { ed25519: [], ecdsa: ['-b', '256'], rsa: ['-b', '3072'] }[algorithm];
      const file = join(dir, `k${algorithm}${n}`);
      const args = ['-q', '-t', algorithm, ...bits, '-N', '', '-C', 'root@worker', '-f', file];
      const made = await runProgram('ssh-keygen', args, { timeoutMs: 60_000 });
      if (made.exitCode !== 0) throw new Error(made.stderr.toString());
    });
    const ratio = keygen / inProcess;
    console.log(
      `${algorithm.padEnd(8)} in process ${inProcess.toFixed(3)} ms/key (mean of ${count} after warm-up)   ssh-keygen -t ${algorithm} -N '' -f: ${keygen.toFixed(2)} ms/key (median of ${algorithm === 'rsa' ? 5 : 20})   ${ratio.toFixed(1)}x faster${algorithm === 'ed25519' ? ' (target >= 50x)' : ''}`,
    );
  }
}

async function prepare(dir) {
  const { openDriver, openTemplate } = await load('guest-ops/driver-factory.js');
  const { prepareWorker } = await load('psm/worker-prepare/index.js');
  const { loadPolicyFile } = await load('psm/policy/index.js');
  const imageDir = process.env.PSM_WORKER_IMAGE ?? join(root, '.cache', 'worker-image');
  const template = must(await openTemplate({ kind: 'worker-image', directory: imageDir }), 'image');
  const driver = must(await openDriver({ kind: 'qemu', vmDirectory: join(dir, 'vms') }), 'driver');
  const policies = [];
  for (const file of ['admin.yaml', 'main-node.yaml', 'initiator.yaml'])
    policies.push(must(await loadPolicyFile(join(root, 'policies', file)), file));
  try {
    const worker = must(await driver.cloneWorker('bench-hk', template), 'clone');
    must(await worker.powerOn(), 'power on');
    must(await worker.waitForAgent(), 'agent');
    const accel = must(await worker.status(), 'status').details.accelerator;

    // The usual way first (the clone is fresh): keys made in the guest, public halves read back.
    const usualStart = process.hrtime.bigint();
    const made = must(await worker.runProgram('/usr/bin/ssh-keygen', ['-A']), 'ssh-keygen -A');
    if (made.exitCode !== 0) throw new Error(`ssh-keygen -A: ${Buffer.from(made.stderr).toString()}`);
    let reads = 0;
    for (const type of ['rsa', 'ecdsa', 'ed25519']) {
      must(await worker.copyFromGuest(`/etc/ssh/ssh_host_${type}_key.pub`), 'read back');
      reads += 1;
    }
    const usual = Number(process.hrtime.bigint() - usualStart) / 1e6;

    const runs = [];
    for (let i = 0; i < 3; i += 1) {
      const start = process.hrtime.bigint();
      const done = must(
        await prepareWorker(worker, { location: join(dir, 'location'), policies }),
        'prepare',
      );
      runs.push({ ms: Number(process.hrtime.bigint() - start) / 1e6, done });
    }
    runs.sort((a, b) => a.ms - b.ms);
    const { ms, done } = runs[1];
    const keySteps = ['generate', 'install-keys', 'read-back'];
    const keyMs = done.steps.filter((s) => keySteps.includes(s.step)).reduce((t, s) => t + s.ms, 0);
    console.log(`prepare (${accel}, worker running, median of 3): ${ms.toFixed(0)} ms`);
    console.log(`  steps: ${done.steps.map((s) => `${s.step} ${s.ms}`).join(', ')} (ms)`);
    const ops = done.guestOperations.map((o) => `${o.operation} x${o.count} ${o.ms} ms`);
    const total = done.guestOperations.reduce((t, o) => t + o.count, 0);
    console.log(`  guest operations (${total}): ${ops.join(', ')}`);
    console.log(
      `  its keys (generate + install + read back, 1 ed25519): ${keyMs} ms   the usual way (ssh-keygen -A through the agent, then ${reads} .pub read back; 3 types, nothing pinned, sshd not switched): ${usual.toFixed(0)} ms, ${1 + reads} guest operations`,
    );
  } finally {
    await driver.destroyWorker('bench-hk');
  }
}

export async function run() {
  const dir = await mkdtemp(join(tmpdir(), 'psm-bench-host-keys-'));
  try {
    await generation(dir);
    await prepare(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// psm rotate-keys --admin on 1, 2 and 4 real workers with concurrency 1 and 4, in one run: the
// wall time of each rotation, and per worker the guest operations and SSH logins it cost; beside
// it, one plain OpenSSH login (`ssh -i`, the tool an operator would otherwise script a rotation
// with) to the same workers. Prints figures; never fails on time. Needs the build and the image.
import { copyFile, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, median, root, timeMs } from '../bench-support/timing.mjs';

const { initVault, layoutOf } = await load('vault/index.js');
const { openDriver, openTemplate, defaultVmDirectory, defaultWorkerImageDirectory } = await load(
  'guest-ops/driver-factory.js',
);
const { generateGate } = await load('psm/gate/index.js');
const { renderWorkerSshdConfig, PSM_SSHD_CONFIG_PATH } = await load('psm/host-keys/sshd-config.js');
const { knownHostsPath, pinWorker } = await load('psm/host-keys/pin-store.js');
const { parseGuestPublicKey } = await load('psm/host-keys/guest-answers.js');
const { loadRolePolicies, installAdminKey, keysRecordPath } = await load('psm/key-exchange/index.js');
const { openAuditLog } = await load('psm/audit-log/index.js');
const { rotateAdminKey } = await load('psm/rotation/index.js');
const { runProgram } = await load('common/run-program.js');

const WORKERS = 4;
const HOST_KEY = '/persist/etc/ssh/ssh_host_ed25519_key';
const GUEST_OPS = ['runProgram', 'copyToGuest', 'copyFromGuest', 'status', 'waitForAgent'];

function must(result, what) {
  if (!result.ok) throw new Error(`${what}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** The driver, counting every guest operation its workers make. */
function counting(driver, counter) {
  const wrap = (worker) =>
    new Proxy(worker, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        return (...args) => {
          if (GUEST_OPS.includes(prop)) counter.ops += 1;
          return value.apply(target, args);
        };
      },
    });
  return {
    kind: driver.kind,
    cloneWorker: driver.cloneWorker.bind(driver),
    listWorkers: driver.listWorkers.bind(driver),
    destroyWorker: driver.destroyWorker.bind(driver),
    async openWorker(name, options) {
      const opened = await driver.openWorker(name, options);
      return opened.ok ? { ok: true, value: wrap(opened.value) } : opened;
    },
  };
}

/** Gates, psm's sshd config and the pin: the preparation rotation needs (prepareWorker's minimum). */
async function prepare(location, policies, worker) {
  for (const policy of [policies.admin, policies.mainNode, policies.initiator])
    must(
      await worker.copyToGuest(Buffer.from(generateGate(policy).script), policy.gatePath, {
        mode: 0o755,
        owner: { uid: 0, gid: 0 },
      }),
      'gate',
    );
  must(
    await worker.copyToGuest(
      Buffer.from(renderWorkerSshdConfig({ hostKeyPaths: [HOST_KEY] })),
      PSM_SSHD_CONFIG_PATH,
      {
        mode: 0o644,
        owner: { uid: 0, gid: 0 },
      },
    ),
    'sshd config',
  );
  const key = must(
    parseGuestPublicKey(must(await worker.copyFromGuest(`${HOST_KEY}.pub`), 'host key').data, HOST_KEY),
    'host key',
  );
  const ssh = must(await worker.status(), 'status').ssh;
  must(
    await pinWorker(location, { worker: worker.name, ...ssh }, [{ type: key.type, base64: key.base64 }], {
      hashNames: false,
    }),
    'pin',
  );
  const pid = Buffer.from(must(await worker.copyFromGuest('/run/sshd.pid'), 'pid').data)
    .toString()
    .trim();
  must(await worker.runProgram('/bin/kill', [pid]), 'restart sshd');
  return ssh;
}

async function sshLogin(location, name, ssh, keyFile) {
  return timeMs(() =>
    runProgram(
      'ssh',
      [
        '-F',
        '/dev/null',
        '-i',
        keyFile,
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${knownHostsPath(location)}`,
        '-o',
        `HostKeyAlias=${name}`,
        '-p',
        String(ssh.port),
        `popc@${ssh.host}`,
        'popcobjrun',
        '/usr/local/popc/objects/hello',
      ],
      { timeoutMs: 60_000 },
    ),
  );
}

export async function run() {
  const temp = await mkdtemp(join(tmpdir(), 'psm-bench-rotate-'));
  const location = join(temp, 'popc');
  must(await initVault({ location, force: false, kind: 'qemu', kdfCost: 'interactive' }), 'psm init');
  const layout = layoutOf(location);
  await mkdir(layout.policiesDir, { recursive: true });
  for (const file of ['admin.yaml', 'main-node.yaml', 'initiator.yaml'])
    await copyFile(join(root, 'policies', file), join(layout.policiesDir, file));
  const policies = must(await loadRolePolicies(layout.policiesDir), 'policies');
  const driver = must(
    await openDriver({ kind: 'qemu', vmDirectory: defaultVmDirectory(location) }),
    'driver',
  );
  const audit = must(await openAuditLog(location, { keyFile: layout.keyFile }), 'audit log');
  const settings = { location, policies, adminAddress: '10.0.2.2', audit };
  const template = must(
    await openTemplate({ kind: 'worker-image', directory: defaultWorkerImageDirectory() }),
    'image',
  );
  const names = Array.from({ length: WORKERS }, (_, i) => `bench-rot-${i + 1}`);
  const endpoints = {};
  try {
    await Promise.all(
      names.map(async (name) => {
        const worker = must(await driver.cloneWorker(name, template), 'clone');
        must(await worker.powerOn(), 'power on');
        must(await worker.waitForAgent({ timeoutMs: 180_000 }), 'agent');
        endpoints[name] = await prepare(location, policies, worker);
        await worker.close();
      }),
    );
    const adminPub = await readFile(`${layout.adminKey}.pub`, 'utf8');
    for (const name of names) {
      const worker = must(await driver.openWorker(name), 'open');
      // sshd restarts with psm's config: wait until the first login works.
      for (let i = 0; i < 60; i += 1) {
        const installed = await installAdminKey(settings, worker, adminPub);
        if (installed.ok) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      await worker.close();
    }
    const plain = [];
    for (const name of names) plain.push(await sshLogin(location, name, endpoints[name], layout.adminKey));
    console.log(
      `one plain OpenSSH login (ssh -i, through the gate) to a worker: ${median(plain).toFixed(0)} ms (median of ${WORKERS})`,
    );
    console.log('workers  concurrency  rotation   per worker: guest ops  SSH logins');
    for (const count of [1, 2, 4]) {
      // Only the first `count` workers' records are in scope for this rotation.
      for (const name of names.slice(count))
        await rename(keysRecordPath(location, name), `${keysRecordPath(location, name)}.aside`);
      for (const concurrency of [1, 4]) {
        const counter = { ops: 0 };
        let report;
        const ms = await timeMs(async () => {
          report = must(
            await rotateAdminKey({ settings, driver: counting(driver, counter), concurrency }),
            'rotate',
          );
        });
        if (report.phase !== 'done') throw new Error(`rotation stopped in ${report.phase}`);
        console.log(
          `${String(count).padStart(7)}  ${String(concurrency).padStart(11)}  ${(ms / 1000).toFixed(2).padStart(6)} s   ${String((counter.ops / count).toFixed(0)).padStart(20)}  ${String(report.logins / count).padStart(10)}`,
        );
      }
      for (const name of names.slice(count))
        await rename(`${keysRecordPath(location, name)}.aside`, keysRecordPath(location, name));
    }
    const loadAverage = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    console.log(
      `load average during the run: ${loadAverage}; expected: time grows with workers / concurrency`,
    );
  } finally {
    audit.close();
    for (const name of names) await driver.destroyWorker(name);
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * A real worker VM for the key exchange, audit and rotation suites: a psm location made by
 * `psm init` (vault, admin key pair), a linked clone of the worker image booted through the
 * driver, the shipped policies' gates installed, psm's sshd config in force and the clone's host
 * key pinned in psm's known_hosts (read out of band, never trusted on first use).
 *
 * The preparation here is the minimum these suites need until `prepareWorker` (issue 11) is in
 * main; it uses psm's own renderers (sshd config, gates) and pin store.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDriver, openTemplate, defaultVmDirectory } from '../../src/guest-ops/driver-factory.js';
import type { GuestOpsDriver, Worker } from '../../src/guest-ops/guest-ops.js';
import { DEFAULT_WORKER_IMAGE_DIR, WORKER_IMAGE_ENV } from '../../src/guest-ops/image/manifest.js';
import { initVault, layoutOf } from '../../src/vault/index.js';
import { generateGate } from '../../src/psm/gate/index.js';
import { renderWorkerSshdConfig, PSM_SSHD_CONFIG_PATH } from '../../src/psm/host-keys/sshd-config.js';
import { pinWorker, pinnedKeys } from '../../src/psm/host-keys/pin-store.js';
import { verifyPresentedKeys } from '../../src/psm/host-keys/verify-identity.js';
import { parseGuestPublicKey } from '../../src/psm/host-keys/guest-answers.js';
import { loadRolePolicies, type RolePolicies } from '../../src/psm/key-exchange/index.js';
import { openAuditLog, type AuditLog } from '../../src/psm/audit-log/index.js';
import { makeTempDir } from './temp-dir.js';

export const BOOT_MS = 180_000;
const HOST_KEY = '/persist/etc/ssh/ssh_host_ed25519_key';

export interface KeyxLocation {
  readonly location: string;
  readonly policiesDir: string;
  readonly adminKeyFile: string;
  readonly driver: GuestOpsDriver;
  readonly policies: RolePolicies;
  readonly audit: AuditLog;
  remove(): Promise<void>;
}

/** A fresh location with the shipped policies copied into its policy directory. */
export async function makeKeyxLocation(prefix: string): Promise<KeyxLocation> {
  const temp = await makeTempDir(prefix);
  const location = join(temp.path, 'popc');
  const init = await initVault({ location, force: false, kind: 'qemu', kdfCost: 'interactive' });
  if (!init.ok) throw new Error(`psm init: ${init.error.message}`);
  const layout = layoutOf(location);
  await mkdir(layout.policiesDir, { recursive: true });
  for (const file of ['admin.yaml', 'main-node.yaml', 'initiator.yaml'])
    await copyFile(resolve('policies', file), join(layout.policiesDir, file));
  const policies = await loadRolePolicies(layout.policiesDir);
  if (!policies.ok) throw new Error(policies.error.message);
  const driver = await openDriver({ kind: 'qemu', vmDirectory: defaultVmDirectory(location) });
  if (!driver.ok) throw new Error(driver.error.message);
  const audit = await openAuditLog(location, { keyFile: layout.keyFile });
  if (!audit.ok) throw new Error(audit.error.message);
  return {
    location,
    policiesDir: layout.policiesDir,
    adminKeyFile: layout.adminKey,
    driver: driver.value,
    policies: policies.value,
    audit: audit.value,
    async remove() {
      audit.value.close();
      const listed = await driver.value.listWorkers();
      if (listed.ok) for (const w of listed.value) await driver.value.destroyWorker(w.name);
      await temp.remove();
    },
  };
}

async function run(worker: Worker, path: string, argv: readonly string[]): Promise<string> {
  const ran = await worker.runProgram(path, argv, { timeoutMs: 60_000 });
  if (!ran.ok) throw new Error(`${path}: ${ran.error.code}: ${ran.error.message}`);
  if (ran.value.exitCode !== 0)
    throw new Error(
      `${path} ${argv.join(' ')}: exit ${ran.value.exitCode}: ${Buffer.from(ran.value.stderr).toString()}`,
    );
  return Buffer.from(ran.value.stdout).toString();
}

/** Clones and boots a worker, installs the gates and psm's sshd config, pins its host key. */
export async function bootPreparedWorker(at: KeyxLocation, name: string): Promise<Worker> {
  const template = await openTemplate({
    kind: 'worker-image',
    directory: resolve(process.env[WORKER_IMAGE_ENV] ?? DEFAULT_WORKER_IMAGE_DIR),
  });
  if (!template.ok) throw new Error(template.error.message);
  const cloned = await at.driver.cloneWorker(name, template.value);
  if (!cloned.ok) throw new Error(cloned.error.message);
  const worker = cloned.value;
  const on = await worker.powerOn();
  if (!on.ok) throw new Error(on.error.message);
  const agent = await worker.waitForAgent({ timeoutMs: BOOT_MS });
  if (!agent.ok) throw new Error(agent.error.message);
  for (const policy of [at.policies.admin, at.policies.mainNode, at.policies.initiator]) {
    const gate = await worker.copyToGuest(Buffer.from(generateGate(policy).script), policy.gatePath, {
      mode: 0o755,
      owner: { uid: 0, gid: 0 },
    });
    if (!gate.ok) throw new Error(gate.error.message);
  }
  const config = renderWorkerSshdConfig({ hostKeyPaths: [HOST_KEY] });
  const wrote = await worker.copyToGuest(Buffer.from(config), PSM_SSHD_CONFIG_PATH, {
    mode: 0o644,
    owner: { uid: 0, gid: 0 },
  });
  if (!wrote.ok) throw new Error(wrote.error.message);
  const pub = await worker.copyFromGuest(`${HOST_KEY}.pub`);
  if (!pub.ok) throw new Error(pub.error.message);
  const key = parseGuestPublicKey(pub.value.data, `${HOST_KEY}.pub`);
  if (!key.ok) throw new Error(key.error.message);
  const ssh = await sshEndpoint(worker);
  const pinned = await pinWorker(
    at.location,
    { worker: name, ...ssh },
    [{ type: key.value.type, base64: key.value.base64 }],
    { hashNames: false },
  );
  if (!pinned.ok) throw new Error(pinned.error.message);
  // busybox init restarts sshd with psm's config once the running one is gone.
  const pid = await worker.copyFromGuest('/run/sshd.pid');
  if (!pid.ok) throw new Error(pid.error.message);
  await run(worker, '/bin/kill', [Buffer.from(pid.value.data).toString().trim()]);
  await waitForPinnedSshd(at.location, name, ssh);
  return worker;
}

export async function sshEndpoint(worker: Worker): Promise<{ host: string; port: number }> {
  const status = await worker.status();
  if (!status.ok || status.value.ssh === undefined) throw new Error('the worker has no SSH forward');
  return status.value.ssh;
}

async function waitForPinnedSshd(
  location: string,
  name: string,
  ssh: { host: string; port: number },
): Promise<void> {
  const pins = await pinnedKeys(location, name);
  if (!pins.ok) throw new Error(pins.error.message);
  for (let i = 0; i < 60; i += 1) {
    const seen = await verifyPresentedKeys(ssh.host, ssh.port, pins.value);
    if (seen.ok) return;
    await sleep(1000);
  }
  throw new Error(`${name}: sshd does not present its pinned key`);
}

/**
 * A real worker VM for the key exchange, audit and rotation suites: a psm location made by
 * `psm init` (vault, admin key pair), a linked clone of the worker image booted through the
 * driver, the shipped policies' gates installed, psm's sshd config in force and the clone's host
 * key pinned in psm's known_hosts (read out of band, never trusted on first use).
 *
 * The worker is prepared by psm's own prepareWorker, exactly as `psm worker prepare` does.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openDriver, openTemplate, defaultVmDirectory } from '../../src/guest-ops/driver-factory.js';
import type { GuestOpsDriver, Worker } from '../../src/guest-ops/guest-ops.js';
import { DEFAULT_WORKER_IMAGE_DIR, WORKER_IMAGE_ENV } from '../../src/guest-ops/image/manifest.js';
import { initVault, layoutOf } from '../../src/vault/index.js';
import { loadRolePolicies, type RolePolicies } from '../../src/psm/key-exchange/index.js';
import { openAuditLog, type AuditLog } from '../../src/psm/audit-log/index.js';
import { prepareWorker } from '../../src/psm/worker-prepare/index.js';
import { makeTempDir } from './temp-dir.js';

export const BOOT_MS = 180_000;

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

/** Clones and boots a worker and prepares it with psm's prepareWorker (host keys, sshd config, gates, pins, snapshot). */
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
  const prepared = await prepareWorker(worker, {
    location: at.location,
    policies: [at.policies.admin, at.policies.mainNode, at.policies.initiator],
  });
  if (!prepared.ok) throw new Error(`prepare ${name}: ${prepared.error.code}: ${prepared.error.message}`);
  return worker;
}

export async function sshEndpoint(worker: Worker): Promise<{ host: string; port: number }> {
  const status = await worker.status();
  if (!status.ok || status.value.ssh === undefined) throw new Error('the worker has no SSH forward');
  return status.value.ssh;
}

import { createHash } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Worker } from '../../src/guest-ops/guest-ops.js';
import { el } from '../../src/guest-ops/vsphere/envelope.js';
import { VsphereDriver, type VsphereWorker } from '../../src/guest-ops/vsphere/index.js';
import { startTask } from '../../src/guest-ops/vsphere/tasks.js';
import { Deadline } from '../../src/guest-ops/wire/deadline.js';
import { defineGuestOpsContract } from '../helpers/guest-ops-contract.js';
import { startVcsim, templateDirectory } from '../helpers/vcsim.js';

// The driver contract against govmomi's vCenter simulator (one per file), with the same
// assertions as for QEMU: lifecycle, and guest operations through the simulator's SOAP and
// /guestFile endpoints, into container-backed VMs whose "containers" are chroot guests made
// by the simulator's `docker` (test/helpers/vcsim/docker.go; docs/vsphere.md says which layer
// is whose).
defineGuestOpsContract('vsphere (govmomi simulator)', async () => {
  const sim = await startVcsim({ guestOperations: true });
  const driver = new VsphereDriver(sim.settings());
  const admin = await sim.admin();

  // What only the hypervisor side can do: make VMware Tools stop answering, and start again
  // (the simulator sets guest properties from SET.* extraConfig keys).
  async function setTools(worker: Worker, status: string): Promise<void> {
    const done = await startTask(
      admin,
      'ReconfigVM_Task',
      (worker as VsphereWorker).vm,
      [
        el('spec', [
          el('extraConfig', [el('key', 'SET.guest.toolsRunningStatus'), el('value', status, 'xsd:string')]),
        ]),
      ],
      new Deadline(10_000),
    );
    if (!done.ok) throw new Error(done.error.message);
  }

  async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
  }

  return {
    driver,
    template: { kind: 'vsphere', vm: 'DC0/vm/psm-template', snapshot: 'psm-base' },
    printf: { path: '/bin/busybox', argv: ['printf'] },
    cat: { path: '/bin/cat', argv: [] },
    sleep: { path: '/bin/busybox', argv: ['sleep'] },
    ps: { path: '/bin/busybox', argv: ['ps', '-o', 'pid,args'] },
    diskDir: '/persist',
    ramDir: '/tmp',
    freezeGuest: (worker) => setTools(worker, 'guestToolsNotRunning'),
    thawGuest: (worker) => setTools(worker, 'guestToolsRunning'),
    async templateFingerprint() {
      // The template's own files on the simulator's datastore (a directory on this host).
      const hash = createHash('sha256');
      const files = await filesUnder(templateDirectory(sim));
      if (files.length === 0) throw new Error('the template has no files on the datastore');
      for (const file of files)
        hash
          .update(file)
          .update('\0')
          .update(await readFile(file))
          .update('\0');
      return hash.digest('hex');
    },
    async leftovers() {
      const found: string[] = [];
      for (const datastore of sim.datastores)
        for (const entry of await readdir(datastore).catch(() => [] as string[]))
          if (entry.startsWith('ct-')) found.push(`datastore ${entry}`);
      const listed = await driver.listWorkers();
      if (listed.ok) found.push(...listed.value.map((w) => `vm ${w.name}`));
      // The guests: no container directory, no mount and no process rooted in one is left.
      for (const entry of await readdir(sim.containerRoot)) found.push(`container ${entry}`);
      const mounts = await readFile('/proc/self/mounts', 'utf8');
      if (mounts.includes(sim.containerRoot)) found.push('a guest /proc mount');
      for (const pid of await readdir('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        const root = await readlink(`/proc/${pid}/root`).catch(() => '');
        if (root.startsWith(sim.containerRoot)) found.push(`guest process ${pid}`);
      }
      return found;
    },
    async cleanup() {
      await admin.logout(new Deadline(5_000));
      await sim.stop();
    },
  };
});

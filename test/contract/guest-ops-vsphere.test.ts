import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Worker } from '../../src/guest-ops/guest-ops.js';
import { el } from '../../src/guest-ops/vsphere/envelope.js';
import { VsphereDriver, type VsphereWorker } from '../../src/guest-ops/vsphere/index.js';
import { startTask } from '../../src/guest-ops/vsphere/tasks.js';
import { Deadline } from '../../src/guest-ops/wire/deadline.js';
import { defineGuestOpsContract } from '../helpers/guest-ops-contract.js';
import { startVcsim, templateDirectory } from '../helpers/vcsim.js';

// The driver contract's lifecycle part against govmomi's vCenter simulator (one per file), with
// the same assertions as for QEMU. Guest operations need a container behind a simulated VM,
// which this machine does not have (docs/vsphere.md says what that leaves unproven).
defineGuestOpsContract(
  'vsphere (govmomi simulator)',
  async () => {
    const sim = await startVcsim();
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
      pgrep: { path: '/bin/busybox', argv: ['pgrep'] },
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
        return found;
      },
      async cleanup() {
        await admin.logout(new Deadline(5_000));
        await sim.stop();
      },
    };
  },
  { guestOperations: false },
);

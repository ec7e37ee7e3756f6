import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_WORKER_IMAGE_DIR, WORKER_IMAGE_ENV } from '../../src/guest-ops/image/manifest.js';
import type { Worker } from '../../src/guest-ops/guest-ops.js';
import { QemuDriver, templateFromImage, vmLayout } from '../../src/guest-ops/qemu/index.js';
import { QmpClient } from '../../src/guest-ops/qmp/client.js';
import { defineGuestOpsContract } from '../helpers/guest-ops-contract.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The driver contract against real QEMU VMs booted from the worker image that `npm test`'s
// set-up builds (.cache/worker-image, or $PSM_WORKER_IMAGE).
defineGuestOpsContract('qemu', async () => {
  const imageDir = resolve(process.env[WORKER_IMAGE_ENV] ?? DEFAULT_WORKER_IMAGE_DIR);
  const template = await templateFromImage(imageDir);
  if (!template.ok)
    throw new Error(`no worker image (run npm test's set-up or psm image build): ${template.error.message}`);
  if (template.value.kind !== 'kernel') throw new Error('the worker image is a kernel template');
  const baseDisk = template.value.baseDisk;
  const temp = await makeTempDir('guest-ops');
  const vmRoot = join(temp.path, 'vms');
  const driver = new QemuDriver({ vmRoot });

  // QEMU serves one QMP client: the worker's own connections are closed before ours opens.
  async function withQmp(worker: Worker, command: 'stop' | 'cont'): Promise<void> {
    await worker.close();
    const layout = vmLayout(vmRoot, worker.name);
    if (!layout.ok) throw new Error(layout.error.message);
    const qmp = await QmpClient.open(layout.value.qmpSocket);
    if (!qmp.ok) throw new Error(qmp.error.message);
    const done = await qmp.value.execute(command, undefined);
    qmp.value.close();
    if (!done.ok) throw new Error(done.error.message);
  }

  return {
    driver,
    template: template.value,
    printf: { path: '/bin/busybox', argv: ['printf'] },
    cat: { path: '/bin/cat', argv: [] },
    sleep: { path: '/bin/busybox', argv: ['sleep'] },
    ps: { path: '/bin/busybox', argv: ['ps', '-o', 'pid,args'] },
    diskDir: '/persist',
    ramDir: '/tmp',
    freezeGuest: (worker) => withQmp(worker, 'stop'),
    thawGuest: (worker) => withQmp(worker, 'cont'),
    async templateFingerprint() {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(baseDisk)) hash.update(chunk as Buffer);
      return `${(await stat(baseDisk)).size}:${hash.digest('hex')}`;
    },
    async leftovers() {
      const found: string[] = [];
      for (const pid of await readdir('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline.includes(vmRoot)) found.push(`process ${pid}`);
      }
      const entries = await readdir(vmRoot, { recursive: true }).catch(() => [] as string[]);
      return [...found, ...entries.map((e) => `file ${e}`)];
    },
    cleanup: () => temp.remove(),
  };
});

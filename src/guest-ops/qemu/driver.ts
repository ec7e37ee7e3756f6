import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import { fail, guestOpsError, reasonOf, type GuestOpsError } from '../errors.js';
import type { GuestOpsDriver, OpOptions, Worker, WorkerSummary, WorkerTemplate } from '../guest-ops.js';
import { QmpClient } from '../qmp/client.js';
import { createOverlay } from './host.js';
import { stopHard } from './lifecycle.js';
import { runningPid } from './process.js';
import { acquireVmLock } from './vm-lock.js';
import { qemuDriverSettings, type QemuDriverSettings } from './settings.js';
import { checkHostPath, vmLayout, type VmLayout } from './vm-layout.js';
import { readVmRecord, writeVmRecord, VM_RECORD_FORMAT, type VmRecord } from './vm-record.js';
import { QemuWorker } from './worker.js';

/**
 * The QEMU driver: workers are linked clones (qcow2 overlays) of a template, each in its own
 * directory under the VM root, run by a daemonized qemu-system-x86_64 and driven over QMP and
 * the guest agent.
 */
export class QemuDriver implements GuestOpsDriver {
  readonly kind = 'qemu';
  readonly settings: QemuDriverSettings;

  constructor(settings: Partial<QemuDriverSettings> & { vmRoot: string }) {
    this.settings = qemuDriverSettings({ ...settings, vmRoot: resolve(settings.vmRoot) });
  }

  async cloneWorker(
    name: string,
    template: WorkerTemplate,
    options: OpOptions = {},
  ): Promise<Result<Worker, GuestOpsError>> {
    const layout = vmLayout(this.settings.vmRoot, name);
    if (!layout.ok) return layout;
    const checked = await checkTemplate(template);
    if (!checked.ok) return checked;
    try {
      await mkdir(this.settings.vmRoot, { recursive: true, mode: 0o700 });
      await mkdir(layout.value.dir, { mode: 0o700 });
    } catch (error) {
      const code = reasonOf(error);
      return code === 'EEXIST'
        ? fail('WORKER_EXISTS', `worker ${name} already exists`, layout.value.dir)
        : fail('HOST_IO', `cannot create the worker directory (${code})`, layout.value.dir);
    }
    const record: VmRecord = {
      format: VM_RECORD_FORMAT,
      name,
      createdAt: new Date().toISOString(),
      memoryMiB: this.settings.memoryMiB,
      cpus: this.settings.cpus,
      template: checked.value,
      sshPort: null,
    };
    // The record first: a directory with a valid vm.json is psm's and may be destroyed by psm.
    const written = await writeVmRecord(layout.value.record, record);
    const base = checked.value.kind === 'kernel' ? checked.value.baseDisk : checked.value.bootDisk;
    const overlay = written.ok
      ? await createOverlay(this.settings.qemuImg, base, layout.value.overlay, options.signal)
      : written;
    if (!overlay.ok) {
      await rm(layout.value.dir, { recursive: true, force: true });
      return overlay;
    }
    return ok(new QemuWorker(layout.value, record, this.settings));
  }

  async openWorker(name: string): Promise<Result<QemuWorker, GuestOpsError>> {
    const layout = vmLayout(this.settings.vmRoot, name);
    if (!layout.ok) return layout;
    const record = await readVmRecord(layout.value.record);
    if (!record.ok) return record;
    if (record.value.name !== name)
      return fail('WORKER_STATE_INVALID', 'vm.json names another worker', layout.value.record);
    return ok(new QemuWorker(layout.value, record.value, this.settings));
  }

  async listWorkers(): Promise<Result<readonly WorkerSummary[], GuestOpsError>> {
    let names: string[];
    try {
      names = (await readdir(this.settings.vmRoot, { withFileTypes: true }))
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch (error) {
      if (reasonOf(error) === 'ENOENT') return ok([]);
      return fail('HOST_IO', `cannot list ${this.settings.vmRoot} (${reasonOf(error)})`);
    }
    const out: WorkerSummary[] = [];
    for (const name of names.sort()) {
      const layout = vmLayout(this.settings.vmRoot, name);
      if (!layout.ok) continue;
      const record = await readVmRecord(layout.value.record);
      if (!record.ok) continue;
      out.push({ name, power: (await runningPid(layout.value)) === undefined ? 'stopped' : 'running' });
    }
    return ok(out);
  }

  /** Stops the VM without grace (it is going away) and removes its directory. */
  async destroyWorker(name: string, options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    const opened = await this.openWorker(name);
    if (!opened.ok) return opened;
    const layout: VmLayout = opened.value.layout;
    await opened.value.close();
    // Never pull a worker from under another process that is driving it.
    const locked = await acquireVmLock(layout, this.settings.lockWaitMs);
    if (!locked.ok) return locked;
    const pid = await runningPid(layout);
    if (pid !== undefined) {
      const qmp = await QmpClient.open(layout.qmpSocket, {
        timeoutMs: 5_000,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const stopped = await stopHard(layout, pid, qmp.ok ? qmp.value : undefined);
      if (qmp.ok) qmp.value.close();
      if (!stopped.ok) return stopped;
    }
    try {
      await rm(layout.dir, { recursive: true, force: true });
      return ok(undefined);
    } catch (error) {
      return fail('HOST_IO', `cannot remove ${layout.dir} (${reasonOf(error)})`);
    }
  }
}

/** Absolute, comma-free paths to regular files; QEMU gets them verbatim. */
type QemuTemplate = Exclude<WorkerTemplate, { readonly kind: 'vsphere' }>;

async function checkTemplate(template: WorkerTemplate): Promise<Result<QemuTemplate, GuestOpsError>> {
  if (template.kind === 'vsphere')
    return fail('TEMPLATE_INVALID', 'a vSphere template cannot boot under QEMU');
  const files =
    template.kind === 'kernel' ? [template.kernel, template.initrd, template.baseDisk] : [template.bootDisk];
  const absolute = files.map((f) => resolve(f));
  for (const path of absolute) {
    const checked = checkHostPath(path, 'a template file');
    if (!checked.ok) return err(guestOpsError('TEMPLATE_INVALID', checked.error.message, path));
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || !info.isFile())
      return fail('TEMPLATE_INVALID', 'the template file does not exist', path);
  }
  const renew =
    template.dhcpRenew === undefined
      ? {}
      : { dhcpRenew: { path: template.dhcpRenew.path, argv: [...template.dhcpRenew.argv] } };
  if (template.kind === 'kernel') {
    const [kernel, initrd, baseDisk] = absolute as [string, string, string];
    return ok({ kind: 'kernel', kernel, initrd, baseDisk, append: template.append, ...renew });
  }
  return ok({ kind: 'disk', bootDisk: absolute[0] as string, ...renew });
}

import { err, ok, type Result } from '../../common/result.js';
import { fail, guestOpsError, type GuestOpsError } from '../errors.js';
import type { GuestOpsDriver, OpOptions, WorkerSummary, WorkerTemplate } from '../guest-ops.js';
import { Deadline } from '../wire/deadline.js';
import { linkedClone, WORKER_MARKER, workerFolder } from './clone.js';
import type { MoRef } from './envelope.js';
import { extraConfigValue, findChild } from './inventory.js';
import { powerOffVm } from './power.js';
import { retrieve, retrieveChildren } from './properties.js';
import { closeSession, openSession, withSession } from './session.js';
import { SNAPSHOT_NAME, WORKER_NAME, type VsphereDriverSettings } from './settings.js';
import type { SoapClient } from './soap-client.js';
import { startTask } from './tasks.js';
import { DEFAULT_VSPHERE_OP_MS, VsphereWorker } from './worker.js';

export const DEFAULT_CLONE_MS = 600_000;

function checkName(name: string): Result<string, GuestOpsError> {
  return WORKER_NAME.test(name)
    ? ok(name)
    : fail('INVALID_ARGUMENT', `worker names match ${WORKER_NAME.source}`);
}

/** Finds a worker psm made: a VM of that name in the workers' folder carrying psm's marker. */
async function findWorker(
  client: SoapClient,
  settings: VsphereDriverSettings,
  name: string,
  deadline: Deadline,
): Promise<Result<MoRef, GuestOpsError>> {
  const folder = await workerFolder(client, settings, deadline);
  if (!folder.ok) return folder;
  const found = await findChild(client, folder.value, name, deadline);
  if (!found.ok) return found;
  if (found.value === undefined || found.value.type !== 'VirtualMachine')
    return fail('WORKER_NOT_FOUND', `no worker ${name} in ${settings.folder}`);
  const props = await retrieve(client, found.value, ['config.extraConfig'], deadline);
  if (!props.ok) return props;
  // A VM psm did not make is never opened, let alone destroyed.
  if (extraConfigValue(props.value.get('config.extraConfig'), WORKER_MARKER) !== name)
    return fail('WORKER_NOT_FOUND', `${name} in ${settings.folder} is not a psm worker`);
  return ok(found.value);
}

/** Workers are linked clones of a template VM's snapshot in one VM folder of vCenter or ESXi. */
export class VsphereDriver implements GuestOpsDriver {
  readonly kind = 'vsphere';

  constructor(private readonly settings: VsphereDriverSettings) {}

  private worker(name: string, client: SoapClient, vm: MoRef): VsphereWorker {
    return new VsphereWorker(name, client, vm, this.settings.endpoint, this.settings.guestCredentials);
  }

  async cloneWorker(
    name: string,
    template: WorkerTemplate,
    options: OpOptions = {},
  ): Promise<Result<VsphereWorker, GuestOpsError>> {
    const checked = checkName(name);
    if (!checked.ok) return checked;
    if (template.kind !== 'vsphere')
      return fail('TEMPLATE_INVALID', 'the vSphere driver clones vSphere templates only');
    if (!SNAPSHOT_NAME.test(template.snapshot))
      return fail('TEMPLATE_INVALID', `template snapshot names match ${SNAPSHOT_NAME.source}`);
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_CLONE_MS, options.signal);
    const session = await openSession(this.settings, deadline);
    if (!session.ok) return session;
    const vm = await linkedClone(session.value, name, template, this.settings, deadline);
    if (!vm.ok) {
      await closeSession(session.value);
      return vm;
    }
    return ok(this.worker(name, session.value, vm.value));
  }

  async openWorker(name: string, options: OpOptions = {}): Promise<Result<VsphereWorker, GuestOpsError>> {
    const checked = checkName(name);
    if (!checked.ok) return checked;
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_VSPHERE_OP_MS, options.signal);
    const session = await openSession(this.settings, deadline);
    if (!session.ok) return session;
    const vm = await findWorker(session.value, this.settings, name, deadline);
    if (!vm.ok) {
      await closeSession(session.value);
      return vm;
    }
    return ok(this.worker(name, session.value, vm.value));
  }

  listWorkers(options: OpOptions = {}): Promise<Result<readonly WorkerSummary[], GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_VSPHERE_OP_MS, options.signal);
    return withSession(this.settings, deadline, async (client) => {
      const folder = await workerFolder(client, this.settings, deadline);
      if (!folder.ok) return folder;
      const vms = await retrieveChildren(
        client,
        folder.value,
        'VirtualMachine',
        ['name', 'runtime.powerState', 'config.extraConfig'],
        deadline,
      );
      if (!vms.ok) return vms;
      const workers: WorkerSummary[] = [];
      for (const { props } of vms.value) {
        const name = props.get('name')?.text;
        if (name === undefined || extraConfigValue(props.get('config.extraConfig'), WORKER_MARKER) !== name)
          continue;
        const power = props.get('runtime.powerState')?.text;
        workers.push({
          name,
          power: power === 'poweredOn' ? 'running' : power === 'suspended' ? 'paused' : 'stopped',
        });
      }
      return ok(workers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
    });
  }

  async destroyWorker(name: string, options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    const checked = checkName(name);
    if (!checked.ok) return checked;
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_VSPHERE_OP_MS, options.signal);
    return withSession(this.settings, deadline, async (client) => {
      const vm = await findWorker(client, this.settings, name, deadline);
      if (!vm.ok) return vm;
      const off = await powerOffVm(client, vm.value, 0, deadline);
      if (!off.ok) return off;
      const destroyed = await startTask(client, 'Destroy_Task', vm.value, [], deadline);
      if (!destroyed.ok) return err(guestOpsError(destroyed.error.code, destroyed.error.message));
      return ok(undefined);
    });
  }
}

import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import type { WorkerTemplate } from '../guest-ops.js';
import type { Deadline } from '../wire/deadline.js';
import { el, type MoRef } from './envelope.js';
import { findByPath, findChild, flattenSnapshots } from './inventory.js';
import { retrieve } from './properties.js';
import type { VsphereDriverSettings } from './settings.js';
import { moRefOf, type SoapClient } from './soap-client.js';
import { startTask } from './tasks.js';

/** The extraConfig key that marks a VM as psm's worker (its value is the worker's name). */
export const WORKER_MARKER = 'psm.worker';

type VsphereTemplate = Extract<WorkerTemplate, { readonly kind: 'vsphere' }>;

export async function workerFolder(
  client: SoapClient,
  settings: VsphereDriverSettings,
  deadline: Deadline,
): Promise<Result<MoRef, GuestOpsError>> {
  const folder = await findByPath(client, settings.folder, deadline);
  if (!folder.ok) return folder;
  if (folder.value === undefined || folder.value.type !== 'Folder')
    return err(
      guestOpsError(
        'INVALID_ARGUMENT',
        `the workers' folder ${settings.folder} is not a VM folder in the inventory`,
      ),
    );
  return ok(folder.value);
}

async function cloneSource(
  client: SoapClient,
  template: VsphereTemplate,
  settings: VsphereDriverSettings,
  deadline: Deadline,
): Promise<Result<{ vm: MoRef; snapshot: MoRef; pool: MoRef }, GuestOpsError>> {
  const vm = await findByPath(client, template.vm, deadline);
  if (!vm.ok) return vm;
  if (vm.value === undefined || vm.value.type !== 'VirtualMachine')
    return err(guestOpsError('TEMPLATE_INVALID', `the template VM ${template.vm} is not in the inventory`));
  const props = await retrieve(client, vm.value, ['snapshot.rootSnapshotList', 'resourcePool'], deadline);
  if (!props.ok) return props;
  const snapshots = flattenSnapshots(props.value.get('snapshot.rootSnapshotList'));
  if (!snapshots.ok) return snapshots;
  const named = snapshots.value.filter((s) => s.name === template.snapshot);
  if (named.length !== 1)
    return err(
      guestOpsError(
        'TEMPLATE_INVALID',
        named.length === 0
          ? `the template VM has no snapshot ${template.snapshot}`
          : `the template VM has ${named.length} snapshots named ${template.snapshot}; linked clones need exactly one`,
      ),
    );
  let pool = moRefOf(props.value.get('resourcePool'));
  if (settings.resourcePool !== undefined) {
    const found = await findByPath(client, settings.resourcePool, deadline);
    if (!found.ok) return found;
    pool = found.value;
  }
  if (pool === undefined || pool.type !== 'ResourcePool')
    return err(
      guestOpsError('TEMPLATE_INVALID', 'no resource pool for the clone: set resource_pool in [hypervisor]'),
    );
  return ok({ vm: vm.value, snapshot: (named[0] as { ref: MoRef }).ref, pool });
}

/** A linked clone: the new VM's disks are child disks of the template's snapshot. */
export async function linkedClone(
  client: SoapClient,
  name: string,
  template: VsphereTemplate,
  settings: VsphereDriverSettings,
  deadline: Deadline,
): Promise<Result<MoRef, GuestOpsError>> {
  const folder = await workerFolder(client, settings, deadline);
  if (!folder.ok) return folder;
  const existing = await findChild(client, folder.value, name, deadline);
  if (!existing.ok) return existing;
  if (existing.value !== undefined)
    return err(guestOpsError('WORKER_EXISTS', `a VM named ${name} is already in ${settings.folder}`));
  const source = await cloneSource(client, template, settings, deadline);
  if (!source.ok) return source;
  const spec = [
    el('location', [el('diskMoveType', 'createNewChildDiskBacking'), el('pool', source.value.pool)]),
    el('template', false),
    el('config', [el('extraConfig', [el('key', WORKER_MARKER), el('value', name, 'xsd:string')])]),
    el('powerOn', false),
    el('snapshot', source.value.snapshot),
  ];
  const cloned = await startTask(
    client,
    'CloneVM_Task',
    source.value.vm,
    [el('folder', folder.value), el('name', name), el('spec', spec)],
    deadline,
  );
  if (!cloned.ok) return cloned;
  const vm = moRefOf(cloned.value);
  if (vm === undefined || vm.type !== 'VirtualMachine')
    return err(guestOpsError('HYPERVISOR_PROTOCOL', 'CloneVM_Task succeeded without naming the new VM'));
  return ok(vm);
}

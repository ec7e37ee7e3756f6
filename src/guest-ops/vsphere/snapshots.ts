import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import type { Deadline } from '../wire/deadline.js';
import { el, type MoRef } from './envelope.js';
import { flattenSnapshots, type SnapshotEntry } from './inventory.js';
import { retrieve } from './properties.js';
import { SNAPSHOT_NAME } from './settings.js';
import type { SoapClient } from './soap-client.js';
import { startTask } from './tasks.js';

/**
 * Snapshots by name. vSphere allows two snapshots of one name; psm keeps names unique: taking a
 * snapshot replaces an older one of the same name (as QEMU's savevm does), so a revert is never
 * ambiguous.
 */
export function checkSnapshotName(name: string): Result<string, GuestOpsError> {
  return SNAPSHOT_NAME.test(name)
    ? ok(name)
    : err(guestOpsError('INVALID_ARGUMENT', `snapshot names match ${SNAPSHOT_NAME.source}`));
}

async function snapshotsNamed(
  client: SoapClient,
  vm: MoRef,
  name: string,
  deadline: Deadline,
): Promise<Result<{ named: SnapshotEntry[]; running: boolean }, GuestOpsError>> {
  const props = await retrieve(client, vm, ['snapshot.rootSnapshotList', 'runtime.powerState'], deadline);
  if (!props.ok) return err(guestOpsError('SNAPSHOT_FAILED', props.error.message));
  const all = flattenSnapshots(props.value.get('snapshot.rootSnapshotList'));
  if (!all.ok) return err(guestOpsError('SNAPSHOT_FAILED', all.error.message));
  return ok({
    named: all.value.filter((s) => s.name === name),
    running: props.value.get('runtime.powerState')?.text === 'poweredOn',
  });
}

export async function takeSnapshot(
  client: SoapClient,
  vm: MoRef,
  name: string,
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const before = await snapshotsNamed(client, vm, name, deadline);
  if (!before.ok) return before;
  // A running VM's snapshot keeps its memory, so a revert resumes it running, as QEMU's does.
  const made = await startTask(
    client,
    'CreateSnapshot_Task',
    vm,
    [el('name', name), el('description', 'psm'), el('memory', before.value.running), el('quiesce', false)],
    deadline,
    'snapshot',
  );
  if (!made.ok) return made;
  for (const old of before.value.named) {
    const removed = await startTask(
      client,
      'RemoveSnapshot_Task',
      old.ref,
      [el('removeChildren', false), el('consolidate', true)],
      deadline,
      'snapshot',
    );
    if (!removed.ok) return removed;
  }
  return ok(undefined);
}

export async function revertSnapshot(
  client: SoapClient,
  vm: MoRef,
  name: string,
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const found = await snapshotsNamed(client, vm, name, deadline);
  if (!found.ok) return found;
  const [only, ...more] = found.value.named;
  if (only === undefined || more.length > 0)
    return err(
      guestOpsError(
        'SNAPSHOT_FAILED',
        only === undefined
          ? `the worker has no snapshot ${name}`
          : `the worker has ${more.length + 1} snapshots named ${name}`,
      ),
    );
  const reverted = await startTask(client, 'RevertToSnapshot_Task', only.ref, [], deadline, 'snapshot');
  return reverted.ok ? ok(undefined) : reverted;
}

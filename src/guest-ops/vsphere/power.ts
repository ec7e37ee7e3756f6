import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import { Deadline } from '../wire/deadline.js';
import type { MoRef } from './envelope.js';
import { readVmState } from './guest-info.js';
import type { SoapClient } from './soap-client.js';
import { startTask } from './tasks.js';

/**
 * Power off as an administrator would: ShutdownGuest through VMware Tools (the guest's own clean
 * shutdown), wait up to `graceMs` for the VM to go off, then PowerOffVM_Task (the hard stop).
 */
export async function powerOffVm(
  client: SoapClient,
  vm: MoRef,
  graceMs: number,
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const state = await readVmState(client, vm, deadline);
  if (!state.ok) return state;
  if (state.value.power === 'stopped') return ok(undefined);
  if (graceMs > 0 && state.value.tools === 'ready') {
    const asked = await client.call('ShutdownGuest', vm, [], deadline);
    if (asked.ok) {
      const grace = new Deadline(deadline.cap(graceMs), deadline.signal);
      for (;;) {
        const now = await readVmState(client, vm, deadline);
        if (!now.ok) return now;
        if (now.value.power === 'stopped') return ok(undefined);
        if (!(await grace.sleep(250))) break;
      }
      if (deadline.aborted) return err(deadline.error('TIMEOUT', 'powering off'));
    }
  }
  const off = await startTask(client, 'PowerOffVM_Task', vm, [], deadline);
  if (off.ok) return ok(undefined);
  // Went off by itself between our look and the task: that is what was asked for.
  const after = await readVmState(client, vm, deadline);
  if (after.ok && after.value.power === 'stopped') return ok(undefined);
  return off;
}

export async function powerOnVm(
  client: SoapClient,
  vm: MoRef,
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const state = await readVmState(client, vm, deadline);
  if (!state.ok) return state;
  if (state.value.power === 'running')
    return err(guestOpsError('WORKER_RUNNING', 'the worker is already running'));
  const on = await startTask(client, 'PowerOnVM_Task', vm, [], deadline);
  return on.ok ? ok(undefined) : on;
}

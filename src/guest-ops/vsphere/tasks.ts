import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import { Deadline } from '../wire/deadline.js';
import type { MoRef } from './envelope.js';
import { faultError, readFault, type FaultContext } from './faults.js';
import { retrieve } from './properties.js';
import { moRefOf, type SoapClient } from './soap-client.js';
import { child, type XmlNode } from './xml.js';

/**
 * vSphere tasks, waited on by polling `info` until success or error, within the caller's
 * deadline. A task still queued or running at the deadline is cancelled (best effort: not every
 * task is cancellable) and reported as TIMEOUT, or ABORTED when the caller aborted.
 */
const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 500;
const CANCEL_MS = 5_000;

export async function startTask(
  client: SoapClient,
  method: string,
  target: MoRef,
  args: Parameters<SoapClient['call']>[2],
  deadline: Deadline,
  context: FaultContext = 'call',
): Promise<Result<XmlNode | undefined, GuestOpsError>> {
  const started = await client.call(method, target, args, deadline, context);
  if (!started.ok) return started;
  const task = moRefOf(child(started.value, 'returnval'));
  if (task === undefined || task.type !== 'Task')
    return err(guestOpsError('HYPERVISOR_PROTOCOL', `${method} did not return a task`));
  return waitForTask(client, task, method, deadline, context);
}

/** Waits for `task`; returns `info.result` (absent for tasks without one). */
export async function waitForTask(
  client: SoapClient,
  task: MoRef,
  what: string,
  deadline: Deadline,
  context: FaultContext,
): Promise<Result<XmlNode | undefined, GuestOpsError>> {
  let pause = FIRST_POLL_MS;
  for (;;) {
    const info = await retrieve(client, task, ['info.state', 'info.error', 'info.result'], deadline);
    if (!info.ok) {
      if (deadline.aborted) break;
      return info;
    }
    const state = info.value.get('info.state')?.text;
    switch (state) {
      case 'success':
        return ok(info.value.get('info.result'));
      case 'error':
        return err(faultError(readFault(info.value.get('info.error')), what, context, []));
      case 'queued':
      case 'running':
        break;
      default:
        return err(guestOpsError('HYPERVISOR_PROTOCOL', `${what}: the task is in an unknown state`));
    }
    if (!(await deadline.sleep(pause))) break;
    pause = Math.min(MAX_POLL_MS, pause * 2);
  }
  await client.call('CancelTask', task, [], new Deadline(CANCEL_MS), context);
  return err(deadline.error('TIMEOUT', what));
}

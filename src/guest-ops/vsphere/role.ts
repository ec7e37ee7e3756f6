import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import type { Deadline } from '../wire/deadline.js';
import { el, type MoRef } from './envelope.js';
import type { SoapClient } from './soap-client.js';
import { child, childrenOf } from './xml.js';

/**
 * The least-privilege role (roadmap 2.13): exactly what the driver's calls need, and nothing
 * else. contrib/vsphere/psm-role.txt is this list (a test keeps them equal); an administrator
 * creates the role from it and grants it on the workers' folder, the template, the resource
 * pool, the datastore and the network.
 */
export const PSM_PRIVILEGES = [
  // CancelTask on psm's own tasks when a deadline passes
  'Global.CancelTask',
  // the clone's disk and network
  'Datastore.AllocateSpace',
  'Network.Assign',
  'Resource.AssignVMToPool',
  // CloneVM_Task from the template's snapshot, with psm's marker in extraConfig
  'VirtualMachine.Provisioning.Clone',
  'VirtualMachine.Inventory.CreateFromExisting',
  'VirtualMachine.Config.AdvancedConfig',
  'VirtualMachine.Inventory.Delete',
  // power on, ShutdownGuest, power off
  'VirtualMachine.Interact.PowerOn',
  'VirtualMachine.Interact.PowerOff',
  // the clean snapshot
  'VirtualMachine.State.CreateSnapshot',
  'VirtualMachine.State.RevertToSnapshot',
  'VirtualMachine.State.RemoveSnapshot',
  // StartProgramInGuest, ListProcessesInGuest, TerminateProcessInGuest, file transfers
  'VirtualMachine.GuestOperations.Query',
  'VirtualMachine.GuestOperations.Modify',
  'VirtualMachine.GuestOperations.Execute',
] as const;

/** Every role has these (vCenter adds them to any role); they are not "more than psm's role". */
export const SYSTEM_PRIVILEGES = ['System.Anonymous', 'System.Read', 'System.View'] as const;

const MAX_LISTED = 5;

/**
 * strict_role: the session's user may hold nothing beyond psm's role on the inventory root
 * (propagated, this covers everything psm touches). Fails closed: a server that cannot say
 * (FetchUserPrivilegeOnEntities is vSphere 6.5 and later) is refused too.
 */
export async function checkRole(
  client: SoapClient,
  rootFolder: MoRef,
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const manager = client.content?.authorizationManager;
  if (manager === undefined)
    return err(
      guestOpsError('ROLE_TOO_BROAD', 'strict_role: the hypervisor has no AuthorizationManager to ask'),
    );
  const reply = await client.call(
    'FetchUserPrivilegeOnEntities',
    manager,
    [el('entities', rootFolder), el('userName', client.userName)],
    deadline,
  );
  if (!reply.ok)
    return err(
      guestOpsError(
        'ROLE_TOO_BROAD',
        `strict_role: the session's privileges cannot be read (${reply.error.code})`,
      ),
    );
  const allowed = new Set<string>([...PSM_PRIVILEGES, ...SYSTEM_PRIVILEGES]);
  const held = childrenOf(child(reply.value, 'returnval'), 'privileges').map((p) => p.text);
  const extra = [...new Set(held.filter((p) => !allowed.has(p)))].sort();
  if (extra.length === 0) return ok(undefined);
  const shown = extra.slice(0, MAX_LISTED).map((p) => p.replace(/[^A-Za-z0-9_.]/g, '?'));
  return err(
    guestOpsError(
      'ROLE_TOO_BROAD',
      `strict_role: ${client.userName} holds ${extra.length} privilege(s) beyond psm's role (${shown.join(', ')}${extra.length > MAX_LISTED ? ', ...' : ''}); grant the role in contrib/vsphere/psm-role.txt instead`,
    ),
  );
}

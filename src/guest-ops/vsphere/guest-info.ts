import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import type { AgentState, GuestAddress, PowerState } from '../guest-ops.js';
import type { Deadline } from '../wire/deadline.js';
import type { MoRef } from './envelope.js';
import { retrieve } from './properties.js';
import type { SoapClient } from './soap-client.js';
import { child, childrenOf, textOf, type XmlNode } from './xml.js';

/** What VMware Tools and the host report about a VM, read in one PropertyCollector call. */
export interface VmState {
  readonly power: PowerState;
  readonly tools: AgentState;
  readonly toolsStatus: string;
  readonly address: GuestAddress | undefined;
  readonly host: string | undefined;
}

export const STATE_PATHS = [
  'runtime.powerState',
  'runtime.host',
  'guest.toolsRunningStatus',
  'guest.toolsStatus',
  'guest.ipAddress',
  'guest.net',
] as const;

function powerOf(text: string | undefined): PowerState | undefined {
  switch (text) {
    case 'poweredOn':
      return 'running';
    case 'poweredOff':
      return 'stopped';
    case 'suspended':
      return 'paused';
    default:
      return undefined;
  }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The first IPv4 address of the first NIC that has one (guest.net), else guest.ipAddress. */
function addressOf(net: XmlNode | undefined, ipAddress: string | undefined): GuestAddress | undefined {
  for (const [index, nic] of childrenOf(net, 'GuestNicInfo').entries()) {
    for (const ip of childrenOf(child(nic, 'ipConfig'), 'ipAddress')) {
      const address = textOf(ip, 'ipAddress');
      const prefix = Number(textOf(ip, 'prefixLength'));
      if (
        address !== undefined &&
        IPV4.test(address) &&
        Number.isInteger(prefix) &&
        prefix >= 0 &&
        prefix <= 32
      )
        return { address, family: 'ipv4', prefix, interfaceName: `nic${index}` };
    }
  }
  if (ipAddress !== undefined && IPV4.test(ipAddress))
    return { address: ipAddress, family: 'ipv4', prefix: 32, interfaceName: 'nic0' };
  return undefined;
}

export async function readVmState(
  client: SoapClient,
  vm: MoRef,
  deadline: Deadline,
): Promise<Result<VmState, GuestOpsError>> {
  const props = await retrieve(client, vm, STATE_PATHS, deadline);
  if (!props.ok) return props;
  const power = powerOf(props.value.get('runtime.powerState')?.text);
  if (power === undefined) return err(guestOpsError('HYPERVISOR_PROTOCOL', 'the VM reports no power state'));
  const running = props.value.get('guest.toolsRunningStatus')?.text === 'guestToolsRunning';
  const tools: AgentState = power !== 'running' ? 'not-running' : running ? 'ready' : 'unresponsive';
  return ok({
    power,
    tools,
    toolsStatus: props.value.get('guest.toolsStatus')?.text ?? 'unknown',
    address: running
      ? addressOf(props.value.get('guest.net'), props.value.get('guest.ipAddress')?.text)
      : undefined,
    host: props.value.get('runtime.host')?.text,
  });
}

/** Polls until VMware Tools run (and, if asked, report an address); AGENT_TIMEOUT at the deadline. */
export async function waitForTools(
  client: SoapClient,
  vm: MoRef,
  deadline: Deadline,
  needAddress: boolean,
): Promise<Result<VmState, GuestOpsError>> {
  let last: VmState | undefined;
  for (;;) {
    const state = await readVmState(client, vm, deadline);
    if (!state.ok && !deadline.aborted) return state;
    if (state.ok) {
      last = state.value;
      if (last.power !== 'running')
        return err(guestOpsError('WORKER_NOT_RUNNING', 'the worker is not running'));
      if (last.tools === 'ready' && (!needAddress || last.address !== undefined)) return ok(last);
    }
    if (!(await deadline.sleep(250))) break;
  }
  if (last?.tools === 'ready' && needAddress)
    return err(guestOpsError('NO_ADDRESS', 'VMware Tools run but report no IPv4 address'));
  return err(deadline.error('AGENT_TIMEOUT', 'waiting for VMware Tools'));
}

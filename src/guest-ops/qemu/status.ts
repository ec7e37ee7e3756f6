import { ok, type Result } from '../../common/result.js';
import type { GuestOpsError } from '../errors.js';
import type { AgentState, PowerState, WorkerStatus } from '../guest-ops.js';
import type { AgentChannel } from '../qga/channel.js';
import type { QmpClient } from '../qmp/client.js';
import { decodeQueryKvm, decodeQueryStatus } from '../qmp/messages.js';
import type { Deadline } from '../wire/deadline.js';
import { runningPid } from './process.js';
import type { VmLayout } from './vm-layout.js';
import type { VmRecord } from './vm-record.js';

const AGENT_PING_MS = 3_000;

/** What `psm vm status|inspect` shows: power state from the pidfile and QMP, agent on request. */
export async function vmStatus(
  layout: VmLayout,
  record: VmRecord,
  deadline: Deadline,
  probeAgent: boolean,
  connect: {
    qmp: () => Promise<Result<QmpClient, GuestOpsError>>;
    agent: () => Promise<Result<AgentChannel, GuestOpsError>>;
  },
): Promise<Result<WorkerStatus, GuestOpsError>> {
  const details: Record<string, string | number | boolean> = {
    directory: layout.dir,
    template: record.template.kind,
    memoryMiB: record.memoryMiB,
    cpus: record.cpus,
    createdAt: record.createdAt,
  };
  const pid = await runningPid(layout);
  if (pid === undefined) {
    return ok({
      name: layout.name,
      power: 'stopped',
      ...(probeAgent ? { agent: 'not-running' as const } : {}),
      details,
    });
  }
  details.pid = pid;
  const qmp = await connect.qmp();
  if (!qmp.ok) {
    // Another process drives the worker: what the pidfile says is all that can be known now.
    if (qmp.error.code === 'WORKER_BUSY')
      return ok({ name: layout.name, power: 'running', details: { ...details, busy: true } });
    return qmp;
  }
  const status = await qmp.value.execute('query-status', undefined, deadline.step(5_000));
  if (!status.ok) return status;
  const decoded = decodeQueryStatus(status.value);
  if (!decoded.ok) return { ok: false, error: { code: 'HYPERVISOR_PROTOCOL', message: decoded.error } };
  details.qemuStatus = decoded.value.status;
  details.qemuVersion = qmp.value.version;
  const kvm = await qmp.value.execute('query-kvm', undefined, deadline.step(5_000));
  if (kvm.ok) {
    const enabled = decodeQueryKvm(kvm.value);
    if (enabled.ok) details.accelerator = enabled.value ? 'kvm' : 'tcg';
  }
  const power: PowerState = decoded.value.running
    ? 'running'
    : decoded.value.status === 'shutdown'
      ? 'stopped'
      : 'paused';
  let agent: AgentState | undefined;
  if (probeAgent) {
    const channel = await connect.agent();
    const ping = channel.ok
      ? await channel.value.call('guest-ping', undefined, deadline.step(AGENT_PING_MS))
      : channel;
    agent = ping.ok ? 'ready' : 'unresponsive';
  }
  const ssh = record.sshPort === null ? {} : { ssh: { host: '127.0.0.1', port: record.sshPort } };
  return ok({ name: layout.name, power, ...(agent === undefined ? {} : { agent }), ...ssh, details });
}

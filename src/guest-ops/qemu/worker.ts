import { ok, type Result } from '../../common/result.js';
import { fail, type GuestOpsError } from '../errors.js';
import type {
  CopyInOptions,
  GuestAddress,
  GuestFile,
  GuestProgramOutcome,
  OpOptions,
  RunInGuestOptions,
  Worker,
  WorkerStatus,
} from '../guest-ops.js';
import { AgentChannel, DEFAULT_AGENT_CALL_TIMEOUT_MS } from '../qga/channel.js';
import { execInGuest } from '../qga/exec.js';
import { copyFromGuest, copyToGuest } from '../qga/files.js';
import { decodeInterfaces, pickAddress } from '../qga/interfaces.js';
import { printable } from '../qga/replies.js';
import { Deadline } from '../wire/deadline.js';
import { QmpClient } from '../qmp/client.js';
import { decodeQueryStatus } from '../qmp/messages.js';
import { loadSnapshot, saveSnapshot, DEFAULT_SNAPSHOT_TIMEOUT_MS } from '../qmp/snapshots.js';
import { powerOffQemu, startQemu } from './lifecycle.js';
import { runningPid } from './process.js';
import { acquireVmLock, releaseVmLock } from './vm-lock.js';
import type { QemuDriverSettings } from './settings.js';
import { vmStatus } from './status.js';
import type { VmLayout } from './vm-layout.js';
import type { VmRecord } from './vm-record.js';

export const DEFAULT_AGENT_WAIT_MS = 180_000;
export const DEFAULT_GUEST_OP_TIMEOUT_MS = 60_000;
/** One sync attempt while waiting for the agent; an agent that is up answers in milliseconds. */
const AGENT_PROBE_MS = 2_000;
/** QEMU run states a guest does not leave without outside help. */
const DEAD_END_STATES: readonly string[] = ['internal-error', 'guest-panicked', 'shutdown', 'io-error'];

/** A QEMU worker: its directory, and at most one QMP and one agent connection, opened lazily. */
export class QemuWorker implements Worker {
  private qmp: QmpClient | undefined;
  private agent: AgentChannel | undefined;

  constructor(
    readonly layout: VmLayout,
    private record: VmRecord,
    private readonly settings: QemuDriverSettings,
  ) {}

  get name(): string {
    return this.layout.name;
  }

  async powerOn(options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    await this.close();
    const started = await startQemu(this.layout, this.record, this.settings, options);
    if (!started.ok) return started;
    this.record = started.value;
    return ok(undefined);
  }

  async status(
    options: OpOptions & { readonly probeAgent?: boolean } = {},
  ): Promise<Result<WorkerStatus, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_AGENT_CALL_TIMEOUT_MS, options.signal);
    return vmStatus(this.layout, this.record, deadline, options.probeAgent === true, {
      qmp: () => this.qmpClient(deadline),
      agent: () => this.agentChannel(deadline, 3_000),
    });
  }

  async waitForAgent(options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_AGENT_WAIT_MS, options.signal);
    let last: GuestOpsError | undefined;
    for (;;) {
      if ((await runningPid(this.layout)) === undefined) {
        await this.close();
        return fail(
          'WORKER_NOT_RUNNING',
          `worker ${this.name} is not running (see ${this.layout.consoleLog})`,
        );
      }
      if (this.agent?.isOpen !== true) {
        const locked = await acquireVmLock(this.layout, this.settings.lockWaitMs);
        if (!locked.ok) return locked;
        const connected = await AgentChannel.connect(this.layout.qgaSocket, deadline.step(AGENT_PROBE_MS));
        if (connected.ok) this.agent = connected.value;
        else last = connected.error;
      }
      if (this.agent?.isOpen === true) {
        // Sync again on the same connection: the 0xFF + id handshake also catches an agent that starts late.
        const synced = await this.agent.sync(deadline.step(AGENT_PROBE_MS));
        if (synced.ok) return ok(undefined);
        last = synced.error;
      }
      const broken = await this.brokenState(deadline);
      if (broken !== undefined)
        return fail(
          'HYPERVISOR_FAILED',
          `worker ${this.name} stopped in QEMU state "${broken}" (see ${this.layout.consoleLog})`,
        );
      if (deadline.aborted || !(await deadline.sleep(200))) {
        const reason = deadline.error('AGENT_TIMEOUT', `waiting for the guest agent of ${this.name}`);
        return fail(reason.code, `${reason.message}${last ? ` (last: ${last.message})` : ''}`);
      }
    }
  }

  async readAddress(options: OpOptions = {}): Promise<Result<GuestAddress, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_AGENT_CALL_TIMEOUT_MS, options.signal);
    const agent = await this.agentChannel(deadline);
    if (!agent.ok) return agent;
    const reply = await agent.value.call(
      'guest-network-get-interfaces',
      undefined,
      deadline.step(DEFAULT_AGENT_CALL_TIMEOUT_MS),
    );
    if (!reply.ok) return reply;
    const interfaces = decodeInterfaces(reply.value);
    if (!interfaces.ok) return fail('AGENT_PROTOCOL', `guest-network-get-interfaces: ${interfaces.error}`);
    const address = pickAddress(interfaces.value, 'eth0');
    return address === undefined
      ? fail('NO_ADDRESS', `worker ${this.name} has no usable address yet`)
      : ok(address);
  }

  async renewAddress(options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    const renew = this.record.template.dhcpRenew;
    if (renew === undefined)
      return fail('INVALID_ARGUMENT', `the template of ${this.name} names no DHCP renew command`);
    const ran = await this.runProgram(renew.path, renew.argv, {
      timeoutMs: options.timeoutMs ?? 30_000,
      ...signalOf(options),
    });
    if (!ran.ok) return ran;
    if (ran.value.exitCode === 0) return ok(undefined);
    const stderr = printable(Buffer.from(ran.value.stderr).toString('utf8').trim());
    return fail(
      'GUEST_COMMAND_FAILED',
      `DHCP renew exited with ${ran.value.exitCode ?? `signal ${ran.value.signal}`}: ${stderr}`,
    );
  }

  async copyToGuest(
    data: Uint8Array,
    guestPath: string,
    options: CopyInOptions = {},
  ): Promise<Result<void, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_GUEST_OP_TIMEOUT_MS, options.signal);
    const agent = await this.agentChannel(deadline);
    if (!agent.ok) return agent;
    return copyToGuest(agent.value, this.settings.guestTools, {
      data,
      guestPath,
      ...(options.mode === undefined ? {} : { mode: options.mode }),
      ...(options.owner === undefined ? {} : { owner: options.owner }),
      ...deadline.step(deadline.timeoutMs),
    });
  }

  async copyFromGuest(guestPath: string, options: OpOptions = {}): Promise<Result<GuestFile, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_GUEST_OP_TIMEOUT_MS, options.signal);
    const agent = await this.agentChannel(deadline);
    if (!agent.ok) return agent;
    return copyFromGuest(agent.value, this.settings.guestTools, {
      guestPath,
      ...deadline.step(deadline.timeoutMs),
    });
  }

  async runProgram(
    path: string,
    argv: readonly string[],
    options: RunInGuestOptions = {},
  ): Promise<Result<GuestProgramOutcome, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_GUEST_OP_TIMEOUT_MS, options.signal);
    const agent = await this.agentChannel(deadline);
    if (!agent.ok) return agent;
    return execInGuest(agent.value, this.settings.guestTools, {
      path,
      argv,
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...deadline.step(deadline.timeoutMs),
    });
  }

  async takeSnapshot(snapshot: string, options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS, options.signal);
    const qmp = await this.qmpClient(deadline);
    if (!qmp.ok) return qmp;
    return saveSnapshot(qmp.value, snapshot, deadline.step(deadline.timeoutMs));
  }

  async revertToSnapshot(snapshot: string, options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS, options.signal);
    const qmp = await this.qmpClient(deadline);
    if (!qmp.ok) return qmp;
    const loaded = await loadSnapshot(qmp.value, snapshot, deadline.step(deadline.timeoutMs));
    if (!loaded.ok) return loaded;
    // The guest (and its agent) just jumped back in time: whatever it was reading is gone.
    this.agent?.invalidate();
    const agent = await this.waitForAgent(deadline.step(deadline.timeoutMs));
    if (!agent.ok) return agent;
    // Roadmap 4.5: a restored lease may be stale; ask for a fresh one before anyone reads the IP.
    if (this.record.template.dhcpRenew === undefined) return ok(undefined);
    return this.renewAddress(deadline.step(deadline.timeoutMs));
  }

  async powerOff(
    options: OpOptions & { readonly graceMs?: number } = {},
  ): Promise<Result<void, GuestOpsError>> {
    this.agent?.close();
    this.agent = undefined;
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_GUEST_OP_TIMEOUT_MS, options.signal);
    const result = await powerOffQemu(this.layout, deadline, options.graceMs, () => this.qmpClient(deadline));
    await this.close();
    return result;
  }

  async close(): Promise<void> {
    this.agent?.close();
    this.qmp?.close();
    this.agent = undefined;
    this.qmp = undefined;
    await releaseVmLock(this.layout);
  }

  /** A QEMU run state from which the guest will never answer by itself. */
  private async brokenState(deadline: Deadline): Promise<string | undefined> {
    const qmp = await this.qmpClient(deadline);
    if (!qmp.ok) return undefined;
    const status = await qmp.value.execute('query-status', undefined, deadline.step(2_000));
    const decoded = status.ok ? decodeQueryStatus(status.value) : undefined;
    if (decoded?.ok !== true) return undefined;
    return DEAD_END_STATES.includes(decoded.value.status) ? decoded.value.status : undefined;
  }

  private async qmpClient(deadline: Deadline): Promise<Result<QmpClient, GuestOpsError>> {
    if (this.qmp?.isOpen === true) return ok(this.qmp);
    if ((await runningPid(this.layout)) === undefined)
      return fail('WORKER_NOT_RUNNING', `worker ${this.name} is not running`);
    const locked = await acquireVmLock(this.layout, this.settings.lockWaitMs);
    if (!locked.ok) return locked;
    const opened = await QmpClient.open(this.layout.qmpSocket, deadline.step(DEFAULT_AGENT_CALL_TIMEOUT_MS));
    if (opened.ok) this.qmp = opened.value;
    return opened;
  }

  private async agentChannel(
    deadline: Deadline,
    capMs = DEFAULT_AGENT_CALL_TIMEOUT_MS,
  ): Promise<Result<AgentChannel, GuestOpsError>> {
    if (this.agent?.isOpen === true) return ok(this.agent);
    if ((await runningPid(this.layout)) === undefined)
      return fail('WORKER_NOT_RUNNING', `worker ${this.name} is not running`);
    const locked = await acquireVmLock(this.layout, this.settings.lockWaitMs);
    if (!locked.ok) return locked;
    const opened = await AgentChannel.open(this.layout.qgaSocket, deadline.step(capMs));
    if (opened.ok) this.agent = opened.value;
    return opened;
  }
}

function signalOf(options: OpOptions): { signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
}

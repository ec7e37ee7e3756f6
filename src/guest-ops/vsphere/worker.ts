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
import { Deadline } from '../wire/deadline.js';
import type { MoRef } from './envelope.js';
import { readVmState, waitForTools } from './guest-info.js';
import { powerOffVm, powerOnVm } from './power.js';
import { closeSession } from './session.js';
import { checkSnapshotName, revertSnapshot, takeSnapshot } from './snapshots.js';
import { GuestCaller } from './guest-call.js';
import { runInGuest } from './guest-exec.js';
import { downloadFile, MAX_VSPHERE_COPY_BYTES, uploadFile } from './guest-files.js';
import type { CredentialSource, SoapClient } from './soap-client.js';
import type { Endpoint } from './transport.js';

export const DEFAULT_VSPHERE_OP_MS = 120_000;
export const DEFAULT_TOOLS_WAIT_MS = 180_000;
export const DEFAULT_ADDRESS_WAIT_MS = 30_000;
export const DEFAULT_GRACE_MS = 60_000;

/** One vSphere VM psm made; holds one API session of its own, logged out by close(). */
export class VsphereWorker implements Worker {
  constructor(
    readonly name: string,
    private readonly client: SoapClient,
    readonly vm: MoRef,
    private readonly endpoint: Endpoint,
    private readonly guestCredentials: CredentialSource | undefined,
  ) {}

  private deadline(options: OpOptions, fallbackMs: number): Deadline {
    return new Deadline(options.timeoutMs ?? fallbackMs, options.signal);
  }

  powerOn(options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    return powerOnVm(this.client, this.vm, this.deadline(options, DEFAULT_VSPHERE_OP_MS));
  }

  async status(
    options: OpOptions & { readonly probeAgent?: boolean } = {},
  ): Promise<Result<WorkerStatus, GuestOpsError>> {
    const state = await readVmState(this.client, this.vm, this.deadline(options, DEFAULT_VSPHERE_OP_MS));
    if (!state.ok) return state;
    const { power, tools, toolsStatus, address, host } = state.value;
    return ok({
      name: this.name,
      power,
      ...(options.probeAgent === true ? { agent: tools } : {}),
      ...(address === undefined ? {} : { ssh: { host: address.address, port: 22 } }),
      details: { driver: 'vsphere', vm: this.vm.value, tools: toolsStatus, ...(host ? { host } : {}) },
    });
  }

  async waitForAgent(options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    const ready = await waitForTools(
      this.client,
      this.vm,
      this.deadline(options, DEFAULT_TOOLS_WAIT_MS),
      false,
    );
    return ready.ok ? ok(undefined) : ready;
  }

  async readAddress(options: OpOptions = {}): Promise<Result<GuestAddress, GuestOpsError>> {
    const ready = await waitForTools(
      this.client,
      this.vm,
      this.deadline(options, DEFAULT_ADDRESS_WAIT_MS),
      true,
    );
    if (!ready.ok) return ready;
    return ready.value.address === undefined
      ? fail('NO_ADDRESS', 'no IPv4 address reported')
      : ok(ready.value.address);
  }

  async renewAddress(options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    const state = await readVmState(this.client, this.vm, this.deadline(options, DEFAULT_VSPHERE_OP_MS));
    if (!state.ok) return state;
    if (state.value.power !== 'running') return fail('WORKER_NOT_RUNNING', 'the worker is not running');
    // On vSphere the guest's DHCP client follows the virtual NIC; psm keeps no dhcpRenew command.
    return fail('AGENT_UNAVAILABLE', 'the vSphere driver keeps no DHCP renew command for its workers');
  }

  /** Runs `work` with the guest login, fetched once for the operation and wiped afterwards. */
  private async withGuest<T>(
    options: OpOptions,
    fallbackMs: number,
    work: (guest: GuestCaller, deadline: Deadline) => Promise<Result<T, GuestOpsError>>,
  ): Promise<Result<T, GuestOpsError>> {
    const deadline = this.deadline(options, fallbackMs);
    const guest = await GuestCaller.open(this.client, this.vm, this.guestCredentials, deadline);
    if (!guest.ok) return guest;
    try {
      return await work(guest.value, deadline);
    } finally {
      guest.value.close();
    }
  }

  copyToGuest(
    data: Uint8Array,
    guestPath: string,
    options: CopyInOptions = {},
  ): Promise<Result<void, GuestOpsError>> {
    return this.withGuest(options, DEFAULT_VSPHERE_OP_MS, (guest, deadline) =>
      uploadFile(
        guest,
        this.endpoint,
        { data, guestPath, mode: options.mode ?? 0o600, ...(options.owner ? { owner: options.owner } : {}) },
        deadline,
      ),
    );
  }

  copyFromGuest(guestPath: string, options: OpOptions = {}): Promise<Result<GuestFile, GuestOpsError>> {
    return this.withGuest(options, DEFAULT_VSPHERE_OP_MS, (guest, deadline) =>
      downloadFile(guest, this.endpoint, guestPath, MAX_VSPHERE_COPY_BYTES, deadline),
    );
  }

  runProgram(
    path: string,
    argv: readonly string[],
    options: RunInGuestOptions = {},
  ): Promise<Result<GuestProgramOutcome, GuestOpsError>> {
    return this.withGuest(options, DEFAULT_VSPHERE_OP_MS, (guest, deadline) =>
      runInGuest(
        guest,
        this.endpoint,
        {
          path,
          argv,
          ...(options.stdin ? { stdin: options.stdin } : {}),
          ...(options.env ? { env: options.env } : {}),
        },
        deadline,
      ),
    );
  }

  async takeSnapshot(snapshot: string, options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    const name = checkSnapshotName(snapshot);
    if (!name.ok) return name;
    return takeSnapshot(this.client, this.vm, name.value, this.deadline(options, DEFAULT_VSPHERE_OP_MS));
  }

  async revertToSnapshot(snapshot: string, options: OpOptions = {}): Promise<Result<void, GuestOpsError>> {
    const name = checkSnapshotName(snapshot);
    if (!name.ok) return name;
    const deadline = this.deadline(options, DEFAULT_VSPHERE_OP_MS);
    const reverted = await revertSnapshot(this.client, this.vm, name.value, deadline);
    if (!reverted.ok) return reverted;
    // The agent channel is VMware Tools: a VM restored running is back once Tools answer again.
    const state = await readVmState(this.client, this.vm, deadline);
    if (!state.ok) return state;
    if (state.value.power !== 'running') return ok(undefined);
    const tools = await waitForTools(this.client, this.vm, deadline, false);
    return tools.ok ? ok(undefined) : tools;
  }

  powerOff(options: OpOptions & { readonly graceMs?: number } = {}): Promise<Result<void, GuestOpsError>> {
    return powerOffVm(
      this.client,
      this.vm,
      options.graceMs ?? DEFAULT_GRACE_MS,
      this.deadline(options, DEFAULT_VSPHERE_OP_MS),
    );
  }

  async close(): Promise<void> {
    await closeSession(this.client);
  }
}

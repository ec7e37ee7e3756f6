import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import { lookupName, type PublicKey } from '../../authorized-keys/index.js';
import { generateSshKeyPair, wipeKeyPair, type SshKeyPair } from '../../authorized-keys/keys/index.js';
import { CLEAN_SNAPSHOT, type OpOptions, type Worker } from '../../guest-ops/guest-ops.js';
import { knownHostsPath, pinnedKeys, pinWorker } from '../host-keys/pin-store.js';
import { renderWorkerSshdConfig } from '../host-keys/sshd-config.js';
import { verifyPresentedKeys } from '../host-keys/verify-identity.js';
import { countingWorker } from './counting-worker.js';
import { fromGuestOps, fromHostKeys, prepareError, type PrepareFailure } from './errors.js';
import { psmKeyPath, WORKER_IMAGE_LAYOUT, type GuestIdentityLayout } from './guest-layout.js';
import { installGates, installKeys, readBackKeys, resetIdentity } from './guest-install.js';
import { listIdentityFiles, removeGuestFiles, type IdentityFiles } from './identity-files.js';
import { checkConfigInGuest, switchSshd } from './sshd-switch.js';
import {
  PREPARE_STEPS,
  type PrepareOptions,
  type PrepareOutcome,
  type PrepareStep,
  type PrepareWorkerInput,
} from './types.js';
import {
  readWorkerRecord,
  removeWorkerRecord,
  workerRecordPath,
  writeWorkerRecord,
  WORKER_NAME_PATTERN,
  type WorkerIdentity,
} from './worker-record.js';

type Endpoint = { readonly host: string; readonly port: number };
interface Checked {
  readonly endpoint: Endpoint;
  readonly survey: IdentityFiles;
  readonly keyPaths: readonly string[];
  readonly keys: readonly PublicKey[];
  readonly config: string;
}
type Step<T> = Promise<Result<T, PrepareFailure>>;

/**
 * Gives a clone an identity only psm knows and pins it: fresh host keys made here, installed
 * through the hypervisor's guest operations (never the network), psm's hardened sshd_config
 * checked in the guest before sshd is switched to it, the template's identity files removed,
 * the keys pinned in psm's known_hosts and verified by a real SSH handshake, the clean snapshot
 * taken, and only then the worker recorded as prepared. Idempotent and resumable: a run stopped
 * at any step (even kill -9) leaves a reachable sshd and no "prepared" record, and the next run
 * completes (with keys of its own; the earlier run's private halves died with it).
 * Uses the Worker interface only, so any driver gets it.
 */
export async function prepareWorker(
  target: Worker,
  input: PrepareWorkerInput,
  options: PrepareOptions = {},
): Promise<Result<PrepareOutcome, PrepareFailure>> {
  const checked = checkInput(target.name, input);
  if (!checked.ok) return checked;
  const { worker, counts } = countingWorker(target);
  const run = new PrepareRun(worker, input, options);
  try {
    const done = await run.all();
    return done.ok ? ok({ ...done.value, guestOperations: counts() }) : done;
  } finally {
    run.wipe();
  }
}

function checkInput(name: string, input: PrepareWorkerInput): Result<void, PrepareFailure> {
  if (!WORKER_NAME_PATTERN.test(name) || !lookupName(name).ok)
    return err(prepareError('PREPARE_BAD_INPUT', `"${name.slice(0, 64)}" is not a worker name psm prepares`));
  const algorithms = input.keyAlgorithms ?? ['ed25519'];
  if (algorithms.length === 0 || new Set(algorithms).size !== algorithms.length)
    return err(prepareError('PREPARE_BAD_INPUT', 'give each host key type once, at least one'));
  const gates = input.policies.map((p) => p.gatePath);
  if (new Set(gates).size !== gates.length)
    return err(prepareError('PREPARE_BAD_INPUT', 'two policies have one gate path'));
  if (gates.some((path) => !posix.isAbsolute(path)))
    return err(prepareError('PREPARE_BAD_INPUT', 'a gate path is not absolute'));
  return ok(undefined);
}

class PrepareRun {
  private readonly layout: GuestIdentityLayout;
  private readonly ops: OpOptions;
  private readonly generation = randomBytes(6).toString('hex');
  private pairs: SshKeyPair[] = [];
  private readonly steps: { step: PrepareStep; ms: number }[] = [];

  constructor(
    private readonly worker: Worker,
    private readonly input: PrepareWorkerInput,
    private readonly options: PrepareOptions,
  ) {
    this.layout = input.layout ?? WORKER_IMAGE_LAYOUT;
    this.ops = {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    };
  }

  wipe(): void {
    for (const pair of this.pairs) wipeKeyPair(pair);
  }

  private async step<T>(step: PrepareStep, work: () => Step<T>): Step<T> {
    if (this.options.signal?.aborted === true)
      return err({ module: 'guest-ops', code: 'ABORTED', message: 'prepare was interrupted', step });
    const index = PREPARE_STEPS.indexOf(step) + 1;
    this.options.onStep?.({ worker: this.worker.name, step, index, total: PREPARE_STEPS.length });
    const start = performance.now();
    const done = await work();
    this.steps.push({ step, ms: Math.round(performance.now() - start) });
    return done.ok ? done : err({ ...done.error, step });
  }

  async all(): Step<Omit<PrepareOutcome, 'guestOperations'>> {
    const { worker, input } = this;
    const earlier = await readWorkerRecord(input.location, worker.name);
    const unrecorded = await this.step('unrecord', () => removeWorkerRecord(input.location, worker.name));
    if (!unrecorded.ok) return unrecorded;
    const checked = await this.untilChecked();
    if (!checked.ok) {
      // Nothing was switched: the guest presents what it did, so an earlier record is true again.
      if (earlier.ok) await writeWorkerRecord(input.location, earlier.value);
      return checked;
    }
    return this.fromSwitch(checked.value);
  }

  /** The steps that change nothing sshd uses: on failure the old sshd and its keys are as they were. */
  private async untilChecked(): Step<Checked> {
    const { worker, input, layout, ops } = this;
    const endpoint = await this.step('start', () => this.start());
    if (!endpoint.ok) return endpoint;
    const survey = await this.step('survey', () => listIdentityFiles(worker, layout, ops));
    if (!survey.ok) return survey;
    const generated = await this.step('generate', async () => ok(this.generate()));
    if (!generated.ok) return generated;
    const keyPaths = this.pairs.map((pair) => psmKeyPath(layout, pair.algorithm, this.generation));
    const config = renderWorkerSshdConfig({
      hostKeyPaths: keyPaths,
      ...(input.sshdConfigExtra === undefined ? {} : { extra: input.sshdConfigExtra }),
    });
    const installed = await this.step('install-keys', () => installKeys(worker, this.pairs, keyPaths, ops));
    const keys = installed.ok
      ? await this.step('read-back', () => readBackKeys(worker, this.pairs, keyPaths, ops))
      : installed;
    const checkedConfig = keys.ok
      ? await this.step('check-config', () => checkConfigInGuest(worker, layout, config, keyPaths, ops))
      : keys;
    if (!checkedConfig.ok || !keys.ok) {
      // This run's files go; what sshd runs with is untouched.
      const ours = [...keyPaths.flatMap((p) => [p, `${p}.pub`]), `${layout.sshdConfig}.new`];
      await removeGuestFiles(worker, layout, ours, ops);
      return keys.ok ? (checkedConfig as Result<never, PrepareFailure>) : keys;
    }
    return ok({ endpoint: endpoint.value, survey: survey.value, keyPaths, keys: keys.value, config });
  }

  private async fromSwitch(checked: Checked): Step<Omit<PrepareOutcome, 'guestOperations'>> {
    const { worker, input, layout, ops } = this;
    const { endpoint, survey, keyPaths, keys, config } = checked;
    const switched = await this.step('switch-sshd', () => this.switchSshd(endpoint, keys, survey));
    if (!switched.ok) return switched;
    const gates = await this.step('install-gates', () => installGates(worker, layout, input.policies, ops));
    if (!gates.ok) return gates;
    const removed = await this.step('reset-identity', () =>
      resetIdentity(worker, layout, survey, keyPaths, ops),
    );
    if (!removed.ok) return removed;
    const address = await this.step('renew-address', () => this.renewAddress());
    if (!address.ok) return address;
    const pins = keys.map((key) => ({ type: key.type, base64: key.base64 }));
    const pinned = await this.step('pin', async () => {
      const done = await pinWorker(input.location, { worker: worker.name, ...endpoint }, pins, {
        hashNames: input.hashKnownHosts === true,
      });
      return done.ok ? done : err(fromHostKeys(done.error));
    });
    if (!pinned.ok) return pinned;
    const verified = await this.step('verify', () => this.verifyPins(endpoint));
    if (!verified.ok) return verified;
    const snapshot = await this.step('snapshot', async () => {
      const taken = await worker.takeSnapshot(CLEAN_SNAPSHOT, ops);
      return taken.ok ? taken : err(fromGuestOps(taken.error, 'taking the clean snapshot'));
    });
    if (!snapshot.ok) return snapshot;
    const identity: WorkerIdentity = {
      ssh: endpoint,
      hostKeys: keys.map((key) => ({
        type: key.type,
        fingerprint: key.fingerprint,
        publicKey: `${key.type} ${key.base64}`,
      })),
      keyGeneration: this.generation,
      sshdConfigSha256: createHash('sha256').update(config).digest('hex'),
      gates: gates.value,
      snapshot: CLEAN_SNAPSHOT,
      preparedAt: new Date().toISOString(),
    };
    const recorded = await this.step('record', () =>
      writeWorkerRecord(input.location, { worker: worker.name, identity }),
    );
    if (!recorded.ok) return recorded;
    return ok({
      worker: worker.name,
      ssh: identity.ssh,
      hostKeys: identity.hostKeys,
      knownHosts: knownHostsPath(input.location),
      record: workerRecordPath(input.location, worker.name),
      keyGeneration: this.generation,
      sshdConfigSha256: identity.sshdConfigSha256,
      gates: gates.value,
      removedFiles: removed.value,
      steps: this.steps,
    });
  }

  private async start(): Step<Endpoint> {
    const { worker, ops } = this;
    const status = await worker.status(ops);
    if (!status.ok) return err(fromGuestOps(status.error, 'reading the worker status'));
    if (status.value.power === 'stopped') {
      const on = await worker.powerOn(ops);
      if (!on.ok) return err(fromGuestOps(on.error, 'starting the worker'));
    }
    const agent = await worker.waitForAgent(ops);
    if (!agent.ok) return err(fromGuestOps(agent.error, 'waiting for the guest agent'));
    const now = await worker.status(ops);
    if (!now.ok) return err(fromGuestOps(now.error, 'reading the worker status'));
    if (now.value.ssh !== undefined) return ok(now.value.ssh);
    const address = await worker.readAddress(ops);
    if (!address.ok) return err(fromGuestOps(address.error, 'reading the worker address'));
    return ok({ host: address.value.address, port: 22 });
  }

  private generate(): SshKeyPair[] {
    const algorithms = this.input.keyAlgorithms ?? ['ed25519'];
    this.pairs = algorithms.map((a) => generateSshKeyPair(a, `psm-host-key ${this.worker.name}`));
    return this.pairs;
  }

  private async switchSshd(
    endpoint: Endpoint,
    keys: readonly PublicKey[],
    survey: IdentityFiles,
  ): Step<number> {
    const { worker, layout, ops } = this;
    let previous: Uint8Array | null = null;
    if (survey.psmConfig) {
      const read = await worker.copyFromGuest(layout.sshdConfig, ops);
      if (!read.ok) return err(fromGuestOps(read.error, `reading ${layout.sshdConfig}`));
      previous = read.value.data;
    }
    return switchSshd(worker, layout, endpoint, keys, previous, ops);
  }

  private async renewAddress(): Step<void> {
    const renewed = await this.worker.renewAddress(this.ops);
    if (!renewed.ok) return err(fromGuestOps(renewed.error, 'renewing the DHCP lease'));
    const address = await this.worker.readAddress(this.ops);
    return address.ok ? ok(undefined) : err(fromGuestOps(address.error, 'reading the address'));
  }

  private async verifyPins(endpoint: Endpoint): Step<void> {
    const pins = await pinnedKeys(this.input.location, this.worker.name);
    if (!pins.ok) return err(fromHostKeys(pins.error));
    const verified = await verifyPresentedKeys(endpoint.host, endpoint.port, pins.value, this.options.signal);
    return verified.ok ? ok(undefined) : err(fromHostKeys(verified.error));
  }
}

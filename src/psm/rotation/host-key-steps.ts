import { createHash, randomBytes } from 'node:crypto';
import { ok, type Result } from '../../common/result.js';
import { parsePublicKey, type PublicKey } from '../../authorized-keys/index.js';
import { generateSshKeyPair, type SshKeyAlgorithm } from '../../authorized-keys/keys/index.js';
import {
  CLEAN_SNAPSHOT,
  type GuestOpsDriver,
  type OpOptions,
  type Worker,
} from '../../guest-ops/guest-ops.js';
import { AUDIT_ACTIONS } from '../audit-log/actions.js';
import type { AuditLog } from '../audit-log/index.js';
import { pinWorker } from '../host-keys/pin-store.js';
import { renderWorkerSshdConfig } from '../host-keys/sshd-config.js';
import { readIntendedKeys } from '../key-exchange/index.js';
import { WORKER_IMAGE_LAYOUT, psmKeyPath } from '../worker-prepare/guest-layout.js';
import { installKeys } from '../worker-prepare/guest-install.js';
import { checkConfigInGuest, switchSshd } from '../worker-prepare/sshd-switch.js';
import { readWorkerRecord, writeWorkerRecord, type WorkerRecord } from '../worker-prepare/worker-record.js';
import { rotationError, type RotationError } from './errors.js';
import type { HostKeyWorkerState } from './host-key-journal.js';

const LAYOUT = WORKER_IMAGE_LAYOUT;
const ALGORITHM: Readonly<Record<string, SshKeyAlgorithm>> = {
  'ssh-ed25519': 'ed25519',
  'ecdsa-sha2-nistp256': 'ecdsa',
  'ssh-rsa': 'rsa',
};

export interface HostKeyContext {
  readonly location: string;
  readonly driver: GuestOpsDriver;
  readonly audit: AuditLog;
  readonly ops: OpOptions;
  readonly hashNames: boolean;
}

const incomplete = (name: string, message: string): Result<never, RotationError> =>
  rotationError('ROTATE_INCOMPLETE', `${name}: ${message}`);

function keysOf(texts: readonly string[]): PublicKey[] {
  return texts.map((text) => {
    const [type = '', base64 = ''] = text.split(' ');
    const key = parsePublicKey(type, base64);
    if (!key.ok) throw new Error('bug: the journal holds a key psm did not write');
    return key.value;
  });
}

const pins = (texts: readonly string[]) => keysOf(texts).map((k) => ({ type: k.type, base64: k.base64 }));

/**
 * One worker's host keys, from wherever the journal says it stopped to `done`: new keys installed
 * unused, pinned beside the old ones, presented by sshd (old ones still listed), then the old ones
 * unlisted, unpinned and deleted, and the worker record and clean snapshot updated. At every
 * instant the key sshd presents is pinned. `save` writes the journal after each step.
 */
export async function advanceHostKeys(
  ctx: HostKeyContext,
  name: string,
  start: HostKeyWorkerState | undefined,
  save: (state: HostKeyWorkerState) => Promise<Result<void, RotationError>>,
): Promise<Result<void, RotationError>> {
  const opened = await ctx.driver.openWorker(name, ctx.ops);
  if (!opened.ok) return incomplete(name, `${opened.error.code}: ${opened.error.message}`);
  const worker = opened.value;
  try {
    const status = await worker.status(ctx.ops);
    if (!status.ok || status.value.power !== 'running' || status.value.ssh === undefined)
      return incomplete(name, 'not running: left as it is, retried by the next run');
    const record = await readWorkerRecord(ctx.location, name);
    if (!record.ok) return incomplete(name, record.error.message);
    const keys = await readIntendedKeys(ctx.location, name);
    if (!keys.ok) return incomplete(name, keys.error.message);
    // The clean snapshot is taken again at the end: never while an application's keys are on it.
    if (keys.value.applications.length > 0 && start?.step !== 'done')
      return incomplete(
        name,
        `held by ${keys.value.applications.map((a) => a.appId).join(', ')}: rotated once it is free`,
      );
    const endpoint = status.value.ssh;
    let state = start ?? (await install(ctx, worker, record.value));
    if (!('step' in state)) return state;
    if (start === undefined) {
      const saved = await save(state);
      if (!saved.ok) return saved;
    }
    for (;;) {
      const next = await step(ctx, worker, record.value, endpoint, state);
      if (!next.ok) return next;
      if (next.value === null) return ok(undefined);
      state = next.value;
      const saved = await save(state);
      if (!saved.ok) return saved;
    }
  } finally {
    await worker.close();
  }
}

async function install(
  ctx: HostKeyContext,
  worker: Worker,
  record: WorkerRecord,
): Promise<HostKeyWorkerState | Result<never, RotationError>> {
  const generation = randomBytes(6).toString('hex');
  const algorithms = record.identity.hostKeys.map((k) => ALGORITHM[k.type]);
  if (algorithms.some((a) => a === undefined))
    return incomplete(worker.name, 'a host key type psm does not make');
  const pairs = algorithms.map((a) =>
    generateSshKeyPair(a as SshKeyAlgorithm, `psm-host-key ${worker.name}`),
  );
  const newKeys = pairs.map((p) => p.publicKey.split(' ').slice(0, 2).join(' '));
  const newPaths = algorithms.map((a) => psmKeyPath(LAYOUT, a as string, generation));
  const oldPaths = algorithms.map((a) => psmKeyPath(LAYOUT, a as string, record.identity.keyGeneration));
  const installed = await installKeys(worker, pairs, newPaths, ctx.ops);
  if (!installed.ok) return incomplete(worker.name, installed.error.message);
  await ctx.audit.append({
    action: AUDIT_ACTIONS.hostKeyMade,
    subject: {
      worker: worker.name,
      generation,
      fingerprints: pairs.map((p) => p.fingerprint),
      rotation: true,
    },
  });
  return {
    step: 'installed',
    generation,
    newKeys,
    newPaths,
    oldKeys: record.identity.hostKeys.map((k) => k.publicKey),
    oldPaths,
  };
}

async function step(
  ctx: HostKeyContext,
  worker: Worker,
  record: WorkerRecord,
  endpoint: { host: string; port: number },
  state: HostKeyWorkerState,
): Promise<Result<HostKeyWorkerState | null, RotationError>> {
  const name = worker.name;
  const pin = async (texts: readonly string[]): Promise<Result<void, RotationError>> => {
    const pinned = await pinWorker(ctx.location, { worker: name, ...endpoint }, pins(texts), {
      hashNames: ctx.hashNames,
    });
    if (!pinned.ok) return rotationError('ROTATE_IO', pinned.error.message);
    await ctx.audit.append({
      action: AUDIT_ACTIONS.hostKeyPinned,
      subject: { worker: name, fingerprints: keysOf(texts).map((k) => k.fingerprint) },
    });
    return ok(undefined);
  };
  const present = async (paths: readonly string[]): Promise<Result<string, RotationError>> => {
    const config = renderWorkerSshdConfig({ hostKeyPaths: paths });
    const checked = await checkConfigInGuest(worker, LAYOUT, config, paths, ctx.ops);
    if (!checked.ok) return incomplete(name, checked.error.message);
    const previous = await worker.copyFromGuest(LAYOUT.sshdConfig, ctx.ops);
    const switched = await switchSshd(
      worker,
      LAYOUT,
      endpoint,
      keysOf(state.newKeys),
      previous.ok ? previous.value.data : null,
      ctx.ops,
    );
    return switched.ok ? ok(config) : incomplete(name, switched.error.message);
  };
  switch (state.step) {
    case 'installed': {
      const pinned = await pin([...state.oldKeys, ...state.newKeys]);
      return pinned.ok ? ok({ ...state, step: 'pinned' }) : pinned;
    }
    case 'pinned': {
      const shown = await present([...state.newPaths, ...state.oldPaths]);
      return shown.ok ? ok({ ...state, step: 'presenting' }) : shown;
    }
    case 'presenting': {
      const shown = await present(state.newPaths);
      if (!shown.ok) return shown;
      const pinned = await pin(state.newKeys);
      if (!pinned.ok) return pinned;
      const old = state.oldPaths.flatMap((p) => [p, `${p}.pub`]);
      const removed = await worker.runProgram(LAYOUT.programs.rm, ['-f', '--', ...old], ctx.ops);
      if (!removed.ok || removed.value.exitCode !== 0)
        return incomplete(name, 'the old host key files could not be removed');
      return ok({ ...state, step: 'switched' });
    }
    case 'switched': {
      const config = renderWorkerSshdConfig({ hostKeyPaths: state.newPaths });
      const written = await writeWorkerRecord(ctx.location, {
        worker: name,
        identity: {
          ...record.identity,
          hostKeys: keysOf(state.newKeys).map((k) => ({
            type: k.type,
            fingerprint: k.fingerprint,
            publicKey: `${k.type} ${k.base64}`,
          })),
          keyGeneration: state.generation,
          sshdConfigSha256: createHash('sha256').update(config).digest('hex'),
        },
      });
      if (!written.ok) return rotationError('ROTATE_IO', written.error.message);
      const snapshot = await worker.takeSnapshot(CLEAN_SNAPSHOT, ctx.ops);
      if (!snapshot.ok) return incomplete(name, `clean snapshot: ${snapshot.error.message}`);
      return ok({ ...state, step: 'done' });
    }
    case 'done':
      return ok(null);
    default:
      return state.step satisfies never;
  }
}

import { AUDIT_ACTIONS } from '../audit-log/actions.js';
import { ok, type Result } from '../../common/result.js';
import type { PublicKey } from '../../authorized-keys/index.js';
import type { OpOptions, Worker } from '../../guest-ops/guest-ops.js';
import type { AuditLog } from '../audit-log/index.js';
import { writeAuthorizedKeys } from './apply.js';
import { keyxError, type KeyExchangeError } from './errors.js';
import { checkAdminFrom, type RolePolicies } from './policies.js';
import { gateDigest } from '../gate/generate.js';
import type { KeyPolicy } from '../policy/types.js';
import { lockWorkerKeys, readIntendedKeys, writeIntendedKeys, type IntendedKeys } from './record.js';
import { renderIntendedFile } from './render-file.js';

/** What every key exchange operation needs; the caller owns the audit log and closes it. */
export interface KeyExchangeSettings {
  readonly location: string;
  readonly policies: RolePolicies;
  /** Where the workers see the admin VM (virtual.conf worker.admin_address). */
  readonly adminAddress: string;
  readonly audit: AuditLog;
  readonly gateDir?: string;
  /** The clock (tests pass a fixed one); grants are stamped with it, in whole seconds. */
  readonly now?: () => Date;
}

/** What a change did, for the caller and the audit log. */
export interface KeyChange {
  readonly worker: string;
  readonly revision: number;
  /** SHA-256 fingerprints of every key the worker now holds, in file order. */
  readonly fingerprints: readonly string[];
}

/** How a change moves the record; `null` leaves it as it is (a no-op, still written and verified). */
export type Mutation = (record: IntendedKeys, now: string) => Result<IntendedKeys, KeyExchangeError>;

export interface ChangeSpec {
  /** `area.verb` of the audit entry. */
  readonly action: string;
  /** Names and fingerprints for the audit entry (never key material). */
  readonly subject: Readonly<Record<string, string | readonly string[]>>;
  readonly mutate: Mutation;
  /**
   * A grant is undone when the worker cannot be made to hold it (the caller must not think the
   * worker is ready); a removal is kept as the intent, so `psm audit --fix` finishes it later.
   */
  readonly rollBackOnFailure: boolean;
}

function rolePolicyList(policies: RolePolicies): KeyPolicy[] {
  return [policies.admin, policies.mainNode, policies.initiator];
}

export function nowStamp(settings: KeyExchangeSettings): string {
  const now = settings.now?.() ?? new Date();
  return new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** A key on two lines makes sshd use the first line's options: refused outright. */
export function firstDuplicate(record: IntendedKeys): PublicKey | null {
  const keys = [
    ...record.admin.map((a) => a.key),
    ...record.applications.flatMap((app) => [app.mainNode, ...app.initiators]),
    ...(record.userKey === null ? [] : [record.userKey.key]),
  ];
  const seen = new Set<string>();
  for (const key of keys) {
    const blob = Buffer.from(key.blob).toString('base64');
    if (seen.has(blob)) return key;
    seen.add(blob);
  }
  return null;
}

/**
 * One change of a worker's keys, under the worker's lock: the next record is computed and
 * rendered (nothing is touched if that fails), stored atomically, the whole file replaced in the
 * guest and read back; the act is then recorded in the audit log.
 */
export async function changeWorkerKeys(
  settings: KeyExchangeSettings,
  worker: Worker,
  spec: ChangeSpec,
  ops: OpOptions = {},
): Promise<Result<KeyChange, KeyExchangeError>> {
  const from = checkAdminFrom(settings.policies.admin, settings.adminAddress);
  if (!from.ok) return from;
  const lock = await lockWorkerKeys(settings.location, worker.name);
  if (!lock.ok) return lock;
  try {
    const before = await readIntendedKeys(settings.location, worker.name);
    if (!before.ok) return before;
    const stamp = nowStamp(settings);
    const mutated = spec.mutate(before.value, stamp);
    if (!mutated.ok) return mutated;
    const duplicate = firstDuplicate(mutated.value);
    if (duplicate !== null)
      return keyxError(
        'KEYX_DUPLICATE_KEY',
        `${duplicate.fingerprint} would be on ${worker.name} twice (every role needs its own key)`,
      );
    const next = { ...mutated.value, revision: before.value.revision + 1 };
    const file = renderIntendedFile(next, settings.policies, settings.gateDir);
    if (!file.ok) return file;
    const stored = await writeIntendedKeys(settings.location, next);
    if (!stored.ok) return stored;
    const written = await writeAuthorizedKeys(worker, file.value, new Date(stamp), ops);
    if (!written.ok) {
      await settings.audit.append({
        action: AUDIT_ACTIONS.keyFailed,
        subject: { worker: worker.name, attempted: spec.action, code: written.error.code },
      });
      if (!spec.rollBackOnFailure) return written;
      return rollBack(settings, worker, before.value, written.error, ops);
    }
    const change = {
      worker: worker.name,
      revision: next.revision,
      fingerprints: file.value.lines.map((l) => l.key.fingerprint),
    };
    const logged = await settings.audit.append({
      action: spec.action,
      subject: {
        ...spec.subject,
        worker: worker.name,
        revision: next.revision,
        holds: [...change.fingerprints],
        // The policies the lines were rendered under, each with the digest of the gate it forces.
        policies: rolePolicyList(settings.policies).map((p) => `${p.name}@${gateDigest(p)}`),
      },
    });
    if (!logged.ok)
      return keyxError(
        'KEYX_NOT_RECORDED',
        `${worker.name} was changed (revision ${next.revision}) but the act could not be recorded: ${logged.error.code}: ${logged.error.message}`,
      );
    return ok(change);
  } finally {
    await lock.value.release();
  }
}

/** Puts the earlier record back and the worker's file with it; the original failure is the answer. */
async function rollBack(
  settings: KeyExchangeSettings,
  worker: Worker,
  before: IntendedKeys,
  failure: KeyExchangeError,
  ops: OpOptions,
): Promise<Result<never, KeyExchangeError>> {
  const restored = { ...before, revision: before.revision + 2 };
  const stored = await writeIntendedKeys(settings.location, restored);
  const file = renderIntendedFile(restored, settings.policies, settings.gateDir);
  const pushed =
    stored.ok && file.ok
      ? await writeAuthorizedKeys(worker, file.value, new Date(nowStamp(settings)), ops)
      : null;
  const outcome =
    pushed?.ok === true
      ? 'the earlier keys were put back'
      : 'the earlier keys could not be put back: run psm audit --fix';
  return keyxError(failure.code, `${failure.message} (${outcome})`);
}

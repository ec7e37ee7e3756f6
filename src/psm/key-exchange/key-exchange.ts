import { AUDIT_ACTIONS } from '../audit-log/actions.js';
import { ok, type Result } from '../../common/result.js';
import { publicKeyEquals, type PublicKey } from '../../authorized-keys/index.js';
import type { OpOptions, Worker } from '../../guest-ops/guest-ops.js';
import { keyxError, type KeyExchangeError } from './errors.js';
import { checkId, parseApplicationKeys, parseCallerKey, type ApplicationKeys } from './input.js';
import { MAX_ADMIN_KEYS, MAX_APPLICATIONS } from './limits.js';
import type { IntendedKeys } from './record.js';
import { changeWorkerKeys, type KeyChange, type KeyExchangeSettings } from './transaction.js';

/**
 * The key exchange API the job manager, the CLI and rotation call. Every function replaces the
 * worker's whole authorized_keys from its intended-keys record and reads it back; none appends.
 */

const sameKey = (a: PublicKey) => (b: { key: PublicKey }) => publicKeyEquals(a, b.key);

/** Gives the application the worker: its main node's key and its initiators' keys, under their policies. */
export async function grantApplication(
  settings: KeyExchangeSettings,
  worker: Worker,
  appId: string,
  keys: ApplicationKeys,
  ops: OpOptions = {},
): Promise<Result<KeyChange, KeyExchangeError>> {
  const id = checkId(appId, 'application id');
  if (!id.ok) return id;
  const parsed = parseApplicationKeys(keys);
  if (!parsed.ok) return parsed;
  return changeWorkerKeys(
    settings,
    worker,
    {
      action: AUDIT_ACTIONS.keyGrant,
      subject: {
        appId: id.value,
        mainNode: parsed.value.mainNode.fingerprint,
        initiators: parsed.value.initiators.map((k) => k.fingerprint),
      },
      rollBackOnFailure: true,
      mutate: (record, now) => {
        if (record.admin.length === 0)
          return keyxError('KEYX_NO_ADMIN_KEY', `${worker.name} has no admin key yet (prepare it first)`);
        const others = record.applications.filter((app) => app.appId !== id.value);
        if (others.length >= MAX_APPLICATIONS)
          return keyxError('KEYX_TOO_MANY', `${worker.name} already holds ${MAX_APPLICATIONS} applications`);
        // Granting again sets the application's keys to exactly these (safe to retry after a
        // crash); keys that stay the same keep their grant time, so a retry never extends them.
        const earlier = record.applications.find((app) => app.appId === id.value);
        const same =
          earlier !== undefined &&
          publicKeyEquals(earlier.mainNode, parsed.value.mainNode) &&
          earlier.initiators.length === parsed.value.initiators.length &&
          earlier.initiators.every((key, i) => publicKeyEquals(key, parsed.value.initiators[i] as PublicKey));
        const grant = { appId: id.value, grantedAt: same ? earlier.grantedAt : now, ...parsed.value };
        return ok({ ...record, applications: [...others, grant] });
      },
    },
    ops,
  );
}

/** Takes the application's keys off the worker (its main node and initiators are refused from then on). */
export async function revokeApplication(
  settings: KeyExchangeSettings,
  worker: Worker,
  appId: string,
  ops: OpOptions = {},
): Promise<Result<KeyChange, KeyExchangeError>> {
  const id = checkId(appId, 'application id');
  if (!id.ok) return id;
  return changeWorkerKeys(
    settings,
    worker,
    {
      action: AUDIT_ACTIONS.keyRevoke,
      subject: { appId: id.value },
      rollBackOnFailure: false,
      // Revoking an application that holds nothing succeeds (the file is still written and read back).
      mutate: (record) =>
        ok({ ...record, applications: record.applications.filter((app) => app.appId !== id.value) }),
    },
    ops,
  );
}

/** The worker's admin key becomes exactly `key` (at preparation). A key already there keeps its grant time. */
export async function installAdminKey(
  settings: KeyExchangeSettings,
  worker: Worker,
  key: string,
  ops: OpOptions = {},
): Promise<Result<KeyChange, KeyExchangeError>> {
  const parsed = parseCallerKey(key, 'admin');
  if (!parsed.ok) return parsed;
  return setAdminKeys(settings, worker, [parsed.value], AUDIT_ACTIONS.keyAdminInstall, ops);
}

/**
 * Sets the worker's admin keys to `keys` (one or two: rotation adds the next key beside the
 * active one, then removes the old one). Keys already there keep their grant time.
 */
export async function setAdminKeys(
  settings: KeyExchangeSettings,
  worker: Worker,
  keys: readonly PublicKey[],
  action: string,
  ops: OpOptions = {},
): Promise<Result<KeyChange, KeyExchangeError>> {
  if (keys.length === 0)
    return keyxError('KEYX_NO_ADMIN_KEY', 'a worker always keeps at least one admin key');
  if (keys.length > MAX_ADMIN_KEYS)
    return keyxError('KEYX_TOO_MANY', `a worker holds at most ${MAX_ADMIN_KEYS} admin keys`);
  return changeWorkerKeys(
    settings,
    worker,
    {
      action,
      subject: { admin: keys.map((k) => k.fingerprint) },
      // Either way the record says what psm meant; a failed admin change is finished by a rerun.
      rollBackOnFailure: false,
      mutate: (record, now) => {
        const admin = keys.map((key) => record.admin.find(sameKey(key)) ?? { key, grantedAt: now });
        return ok({ ...record, admin });
      },
    },
    ops,
  );
}

/** Writes the record's state again (psm audit --fix): the file is rendered and replaced, nothing else changes. */
export async function reapplyIntendedKeys(
  settings: KeyExchangeSettings,
  worker: Worker,
  ops: OpOptions = {},
): Promise<Result<KeyChange, KeyExchangeError>> {
  return changeWorkerKeys(
    settings,
    worker,
    {
      action: AUDIT_ACTIONS.keyReapply,
      subject: {},
      rollBackOnFailure: false,
      mutate: (record: IntendedKeys) => ok(record),
    },
    ops,
  );
}

import { AUDIT_ACTIONS } from '../audit-log/actions.js';
import { timingSafeEqual } from 'node:crypto';
import { ok, type Result } from '../../common/result.js';
import type { PublicKey } from '../../authorized-keys/index.js';
import { generateSshKeyPair, wipeKeyPair } from '../../authorized-keys/keys/index.js';
import type { OpOptions, Worker } from '../../guest-ops/guest-ops.js';
import { parseGuestPublicKey } from '../host-keys/guest-answers.js';
import { keyxError, type KeyExchangeError } from './errors.js';
import { GUEST_PROGRAMS, GUEST_SSH_DIR, GUEST_USER_KEY, GUEST_USER_OWNER } from './guest-paths.js';
import { parseCallerKey } from './input.js';
import { lockWorkerKeys, readIntendedKeys, writeIntendedKeys } from './record.js';
import type { KeyExchangeSettings } from './transaction.js';

/** ssh-keygen in the worker image (and in every Debian guest with openssh-client). */
const GUEST_SSH_KEYGEN = '/usr/bin/ssh-keygen';

export interface WorkerUserKey {
  /** The `.pub` line of the worker's user key: what a main node authorizes for connections back. */
  readonly publicKey: string;
  readonly fingerprint: string;
  /** Where the private half lives in the guest (and only there). */
  readonly guestPath: string;
  /** False when the worker already had its key (it is checked, not remade). */
  readonly created: boolean;
}

/**
 * The worker's own SSH user key pair, for POP-C++ connections from the worker back to its main
 * node. Made by psm in-process (ed25519), the private half written straight into the guest user's
 * ~/.ssh (0600, owned by that user) and wiped from psm's memory; psm keeps only the public half,
 * in the intended-keys record. Called again, it proves the guest still holds that key
 * (`ssh-keygen -y` in the guest derives the public half from the private file).
 */
export async function ensureUserKey(
  settings: KeyExchangeSettings,
  worker: Worker,
  ops: OpOptions = {},
): Promise<Result<WorkerUserKey, KeyExchangeError>> {
  const lock = await lockWorkerKeys(settings.location, worker.name);
  if (!lock.ok) return lock;
  try {
    const record = await readIntendedKeys(settings.location, worker.name);
    if (!record.ok) return record;
    const known = record.value.userKey;
    if (known !== null) {
      const held = await guestUserPublicKey(worker, known.guestPath, ops);
      if (!held.ok) return held;
      if (!sameBlob(held.value, known.key))
        return keyxError(
          'KEYX_VERIFY_FAILED',
          `${worker.name} holds another user key than psm made (${held.value.fingerprint})`,
        );
      return ok(describe(known.key, known.guestPath, false));
    }
    const pair = generateSshKeyPair('ed25519', `psm-worker@${worker.name}`);
    try {
      const installed = await install(worker, pair.privateKey, pair.publicKey, ops);
      if (!installed.ok) return installed;
    } finally {
      wipeKeyPair(pair);
    }
    const key = parseCallerKey(pair.publicKey, 'user');
    if (!key.ok) throw new Error('bug: psm made a key it cannot read');
    const held = await guestUserPublicKey(worker, GUEST_USER_KEY, ops);
    if (!held.ok) return held;
    if (!sameBlob(held.value, key.value))
      return keyxError('KEYX_VERIFY_FAILED', `${worker.name} does not hold the user key psm wrote`);
    const next = {
      ...record.value,
      revision: record.value.revision + 1,
      userKey: { key: key.value, guestPath: GUEST_USER_KEY },
    };
    const stored = await writeIntendedKeys(settings.location, next);
    if (!stored.ok) return stored;
    const logged = await settings.audit.append({
      action: AUDIT_ACTIONS.userKey,
      subject: { worker: worker.name, fingerprint: key.value.fingerprint, guestPath: GUEST_USER_KEY },
    });
    if (!logged.ok)
      return keyxError(
        'KEYX_NOT_RECORDED',
        `the user key of ${worker.name} was made but not recorded: ${logged.error.message}`,
      );
    return ok(describe(key.value, GUEST_USER_KEY, true));
  } finally {
    await lock.value.release();
  }
}

function describe(key: PublicKey, guestPath: string, created: boolean): WorkerUserKey {
  return { publicKey: `${key.type} ${key.base64}`, fingerprint: key.fingerprint, guestPath, created };
}

const sameBlob = (a: PublicKey, b: PublicKey): boolean =>
  a.blob.length === b.blob.length && timingSafeEqual(a.blob, b.blob);

async function install(
  worker: Worker,
  privateKey: Uint8Array,
  publicKey: string,
  ops: OpOptions,
): Promise<Result<void, KeyExchangeError>> {
  const owner = `${GUEST_USER_OWNER.uid}:${GUEST_USER_OWNER.gid}`;
  for (const [path, argv] of [
    [GUEST_PROGRAMS.mkdir, ['-p', '-m', '700', '--', GUEST_SSH_DIR]],
    [GUEST_PROGRAMS.chown, [owner, '--', GUEST_SSH_DIR]],
    [GUEST_PROGRAMS.chmod, ['700', '--', GUEST_SSH_DIR]],
  ] as const) {
    const ran = await worker.runProgram(path, argv, ops);
    if (!ran.ok || ran.value.exitCode !== 0)
      return keyxError('KEYX_GUEST', `${path} ${argv.join(' ')} failed on ${worker.name}`);
  }
  const secret = await worker.copyToGuest(privateKey, GUEST_USER_KEY, {
    ...ops,
    mode: 0o600,
    owner: GUEST_USER_OWNER,
  });
  if (!secret.ok)
    return keyxError('KEYX_GUEST', `writing the user key on ${worker.name}: ${secret.error.message}`);
  const pub = await worker.copyToGuest(Buffer.from(publicKey), `${GUEST_USER_KEY}.pub`, {
    ...ops,
    mode: 0o644,
    owner: GUEST_USER_OWNER,
  });
  return pub.ok
    ? ok(undefined)
    : keyxError('KEYX_GUEST', `writing the user key on ${worker.name}: ${pub.error.message}`);
}

/** The public half of the guest's private key file, derived in the guest (not read from the .pub). */
async function guestUserPublicKey(
  worker: Worker,
  path: string,
  ops: OpOptions,
): Promise<Result<PublicKey, KeyExchangeError>> {
  const ran = await worker.runProgram(GUEST_SSH_KEYGEN, ['-y', '-f', path], ops);
  if (!ran.ok) return keyxError('KEYX_GUEST', `ssh-keygen -y on ${worker.name}: ${ran.error.message}`);
  if (ran.value.exitCode !== 0)
    return keyxError('KEYX_VERIFY_FAILED', `${worker.name} has no readable user key at ${path}`);
  const key = parseGuestPublicKey(ran.value.stdout, path);
  return key.ok ? key : keyxError('KEYX_VERIFY_FAILED', key.error.message);
}

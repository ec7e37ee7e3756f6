import { randomBytes } from 'node:crypto';
import { openRegularFile } from '../common/bounded-read.js';
import { assertNever, err, ok, type Result } from '../common/result.js';
import { writeFileAtomic } from '../common/atomic-write.js';
import { errnoOf } from '../common/errno.js';
import { vaultError, type VaultError } from './errors.js';
import type { Sodium } from './sodium.js';

export const KEY_BYTES = 32;
export const KEY_ID_BYTES = 8;
export const SALT_BYTES = 16;
const KEY_ID_CONTEXT = new TextEncoder().encode('psm vault key id v1');

/** Argon2id limits accepted from a config file, checked before deriving anything. */
export const KDF_LIMITS = {
  minOps: 1,
  maxOps: 16,
  minMem: 8192,
  maxMem: 1024 * 1024 * 1024,
} as const;

/** Named Argon2id costs. `min` exists for tests only: it makes a passphrase cheap to guess. */
export const KDF_COSTS = {
  min: { opslimit: 1, memlimit: 8192 },
  interactive: { opslimit: 2, memlimit: 64 * 1024 * 1024 },
  moderate: { opslimit: 3, memlimit: 256 * 1024 * 1024 },
} as const;
export type KdfCost = keyof typeof KDF_COSTS;
export const DEFAULT_KDF_COST: KdfCost = 'moderate';

export interface KdfParams {
  readonly salt: Uint8Array;
  readonly opslimit: number;
  readonly memlimit: number;
}

export function newKdfParams(cost: KdfCost): KdfParams {
  return { salt: new Uint8Array(randomBytes(SALT_BYTES)), ...KDF_COSTS[cost] };
}

export function newMasterKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

/**
 * A short public name for a key: a keyed BLAKE2b of a fixed string. It lets psm say "wrong key"
 * before decrypting, and reveals nothing a brute force of the key itself would not.
 */
export function keyIdOf(sodium: Sodium, key: Uint8Array): string {
  return sodium.to_hex(sodium.crypto_generichash(KEY_ID_BYTES, KEY_ID_CONTEXT, key));
}

export function deriveKey(sodium: Sodium, passphrase: Uint8Array, params: KdfParams): Uint8Array {
  return sodium.crypto_pwhash(
    KEY_BYTES,
    passphrase,
    params.salt,
    params.opslimit,
    params.memlimit,
    sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
}

/**
 * Reads a 32-byte key file, refusing it (as ssh refuses a private key) when group or others may
 * read it, when it is not a regular file, or when someone other than us or root owns it.
 */
export async function readKeyFile(path: string): Promise<Result<Uint8Array, VaultError>> {
  // Non-blocking open + fstat: a FIFO in place of the key is refused, not waited on.
  const opened = await openRegularFile(path);
  if (!opened.ok) {
    switch (opened.error.code) {
      case 'NOT_FOUND':
        return err(vaultError('KEY_MISSING', `the key file ${path} does not exist`));
      case 'NOT_REGULAR':
      case 'SYMLINK':
        return err(vaultError('KEY_UNSAFE_PERMISSIONS', `${path} is not a regular file`));
      case 'TOO_LARGE':
      case 'UNREADABLE':
        return err(vaultError('FILE_UNREADABLE', `the key file: ${opened.error.message}`));
      default:
        return assertNever(opened.error.code);
    }
  }
  const { handle, info } = opened.value;
  try {
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid && info.uid !== 0)
      return err(
        vaultError('KEY_UNSAFE_PERMISSIONS', `${path} is owned by uid ${info.uid}, not by you or root`),
      );
    if ((info.mode & 0o077) !== 0)
      return err(
        vaultError(
          'KEY_UNSAFE_PERMISSIONS',
          `${path} has mode ${(info.mode & 0o777).toString(8)}: group or others can read it; run chmod 600 ${path}`,
        ),
      );
    if (info.size !== KEY_BYTES)
      return err(
        vaultError('KEY_INVALID', `${path} holds ${info.size} bytes, a psm key is exactly ${KEY_BYTES}`),
      );
    const key = new Uint8Array(KEY_BYTES);
    const { bytesRead } = await handle.read(key, 0, KEY_BYTES, 0);
    if (bytesRead !== KEY_BYTES) {
      key.fill(0);
      return err(vaultError('KEY_INVALID', `${path} changed size while being read`));
    }
    return ok(key);
  } catch (error) {
    return err(vaultError('FILE_UNREADABLE', `cannot read the key file ${path} (${errnoOf(error)})`));
  } finally {
    await handle.close();
  }
}

export async function writeKeyFile(path: string, key: Uint8Array): Promise<void> {
  await writeFileAtomic(path, key, { mode: 0o600 });
}

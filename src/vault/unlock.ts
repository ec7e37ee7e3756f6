import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../common/result.js';
import { vaultError, type VaultError } from './errors.js';
import { CREDENTIAL_NAME, CREDENTIALS_ENV, layoutOf } from './layout.js';
import { deriveKey, keyIdOf, readKeyFile } from './master-key.js';
import type { VirtualConf } from './schema-types.js';
import { loadSodium, type Sodium } from './sodium.js';

/** How a caller supplies the master key; the passphrase is asked for only if the vault uses one. */
export interface KeyOptions {
  /** Use this key file instead of $CREDENTIALS_DIRECTORY/psm.key or $POPC_LOCATION/etc/psm.key. */
  readonly keyFile?: string;
  /** Returns the passphrase bytes; unlockKey wipes them. */
  readonly passphrase?: () => Promise<Result<Uint8Array, VaultError>>;
  readonly env?: NodeJS.ProcessEnv;
}

export type KeyOrigin = 'key-file' | 'credential' | 'next-key-file' | 'passphrase';

export interface VaultKey {
  readonly sodium: Sodium;
  /** 32 bytes; wipe with wipeVaultKey when done. */
  readonly key: Uint8Array;
  readonly keyId: string;
  readonly origin: KeyOrigin;
  /** The file the key came from, when it came from one. */
  readonly path: string | undefined;
}

export function wipeVaultKey(key: VaultKey): void {
  key.sodium.memzero(key.key);
}

async function fromFile(
  sodium: Sodium,
  path: string,
  origin: KeyOrigin,
): Promise<Result<VaultKey, VaultError>> {
  const key = await readKeyFile(path);
  if (!key.ok) return key;
  return ok({ sodium, key: key.value, keyId: keyIdOf(sodium, key.value), origin, path });
}

function wrongKey(conf: VirtualConf, found: VaultKey): Result<VaultKey, VaultError> {
  wipeVaultKey(found);
  const what =
    found.origin === 'passphrase'
      ? 'wrong passphrase: it does not unlock'
      : `wrong key: the key in ${found.path ?? 'the key file'} (key id ${found.keyId}) does not unlock`;
  return err(vaultError('WRONG_KEY', `${what} ${conf.file} (sealed with key id ${conf.vault.keyId})`));
}

async function unlockWithFile(
  sodium: Sodium,
  conf: VirtualConf,
  options: KeyOptions,
): Promise<Result<VaultKey, VaultError>> {
  if (options.keyFile !== undefined) return fromFile(sodium, options.keyFile, 'key-file');
  const credentials = (options.env ?? process.env)[CREDENTIALS_ENV];
  if (credentials !== undefined && credentials !== '') {
    const path = join(credentials, CREDENTIAL_NAME);
    if (existsSync(path)) return fromFile(sodium, path, 'credential');
  }
  const layout = layoutOf(conf.location);
  const current = await fromFile(sodium, layout.keyFile, 'key-file');
  if (current.ok && current.value.keyId === conf.vault.keyId) return current;
  // A rekey stopped after the new config was in place but before the new key was renamed over
  // the old one: the next key is the right one (see rekey.ts for the order of steps).
  const next = await fromFile(sodium, layout.nextKeyFile, 'next-key-file');
  if (next.ok && next.value.keyId === conf.vault.keyId) {
    if (current.ok) wipeVaultKey(current.value);
    return next;
  }
  if (next.ok) wipeVaultKey(next.value);
  return current;
}

/**
 * Finds and checks the master key for `conf`: the key id must match before anything is
 * decrypted, so a wrong key or passphrase is reported as such and never as tampering.
 */
export async function unlockKey(
  conf: VirtualConf,
  options: KeyOptions,
): Promise<Result<VaultKey, VaultError>> {
  const sodium = await loadSodium();
  let found: Result<VaultKey, VaultError>;
  if (conf.vault.keySource === 'file') {
    found = await unlockWithFile(sodium, conf, options);
  } else {
    const kdf = conf.vault.kdf;
    if (kdf === undefined) throw new Error('bug: passphrase vault without kdf parameters');
    if (options.passphrase === undefined)
      return err(
        vaultError(
          'KEY_MISSING',
          'this vault is sealed with a passphrase: give --passphrase-file or --passphrase-fd, or run psm on a terminal',
        ),
      );
    const passphrase = await options.passphrase();
    if (!passphrase.ok) return passphrase;
    const key = deriveKey(sodium, passphrase.value, kdf);
    sodium.memzero(passphrase.value);
    found = ok({ sodium, key, keyId: keyIdOf(sodium, key), origin: 'passphrase', path: undefined });
  }
  if (!found.ok) return found;
  if (found.value.keyId !== conf.vault.keyId) return wrongKey(conf, found.value);
  return found;
}

import { err, ok, type Result } from '../common/result.js';
import { loadConfigWithText } from './config.js';
import { vaultError, type VaultError } from './errors.js';
import { openSealed } from './sealed-value.js';
import type { VirtualConf } from './schema-types.js';
import { unlockKey, wipeVaultKey, type KeyOptions, type VaultKey } from './unlock.js';

/** How often openVault re-reads config and key when a concurrent rekey changed them in between. */
const MAX_OPEN_ATTEMPTS = 3;

/** An unlocked vault: the config, its text, and the master key. close() wipes the key. */
export interface OpenVault {
  readonly conf: VirtualConf;
  readonly text: string;
  readonly key: VaultKey;
  close(): void;
}

export async function openVault(
  location: string,
  options: KeyOptions,
): Promise<Result<OpenVault, VaultError>> {
  let last: Result<OpenVault, VaultError> | undefined;
  for (let attempt = 0; attempt < MAX_OPEN_ATTEMPTS; attempt += 1) {
    const loaded = await loadConfigWithText(location);
    if (!loaded.ok) return loaded;
    const key = await unlockKey(loaded.value.conf, options);
    if (key.ok) {
      const vault = { ...loaded.value, key: key.value, close: () => wipeVaultKey(key.value) };
      return ok(vault);
    }
    last = key;
    // Only a key file can change under us (rekey renames it); a passphrase will not get better.
    if (key.error.code !== 'WRONG_KEY' || loaded.value.conf.vault.keySource !== 'file') return key;
  }
  if (last === undefined) throw new Error('bug: no open attempt');
  return last;
}

/**
 * Opens the secret at `path` ("hypervisor.password", "worker.guest_password", "secrets.NAME").
 * The caller wipes the returned bytes (sodium.memzero or fill(0)) as soon as it has used them.
 */
export function openSecret(vault: OpenVault, path: string): Result<Uint8Array, VaultError> {
  const field = vault.conf.sealed.get(path);
  if (field === undefined)
    return err(vaultError('NO_SUCH_SECRET', `${path} holds no sealed value in ${vault.conf.file}`));
  const opened = openSealed(
    vault.key.sodium,
    vault.key.key,
    vault.key.keyId,
    { fileId: vault.conf.vault.fileId, path },
    field.text,
  );
  if (!opened.ok)
    return err({
      ...opened.error,
      file: vault.conf.file,
      ...(field.line === undefined ? {} : { line: field.line }),
    });
  return opened;
}

export interface SecretReport {
  readonly path: string;
  readonly line: number | undefined;
  readonly ok: boolean;
  readonly code?: VaultError['code'];
  readonly message?: string;
}

/** Opens every sealed value and reports each; plaintexts are wiped at once. */
export function verifyVault(vault: OpenVault): SecretReport[] {
  return [...vault.conf.sealed.values()].map((field) => {
    const opened = openSecret(vault, field.path);
    if (opened.ok) {
      vault.key.sodium.memzero(opened.value);
      return { path: field.path, line: field.line, ok: true };
    }
    return {
      path: field.path,
      line: field.line,
      ok: false,
      code: opened.error.code,
      message: opened.error.message,
    };
  });
}

export interface SecretListing {
  readonly path: string;
  readonly line: number | undefined;
  readonly keyId: string;
  readonly sealedBytes: number;
}

/** Paths and metadata, never values: needs no key. */
export function listSecrets(conf: VirtualConf): SecretListing[] {
  return [...conf.sealed.values()].map((field) => ({
    path: field.path,
    line: field.line,
    keyId: field.text.split(':')[2] ?? '',
    sealedBytes: field.text.length,
  }));
}

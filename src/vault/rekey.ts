import { rename, unlink } from 'node:fs/promises';
import { fsyncDirectory } from '../common/atomic-write.js';
import { err, ok, type Result } from '../common/result.js';
import { parseConfigText } from './config.js';
import { errnoOf } from '../common/errno.js';
import { vaultError, type VaultError } from './errors.js';
import type { Layout } from './layout.js';
import {
  deriveKey,
  keyIdOf,
  newKdfParams,
  newMasterKey,
  writeKeyFile,
  type KdfCost,
  type KdfParams,
} from './master-key.js';
import { sealSecret } from './sealed-value.js';
import { applyLineEdits, type LineEdit } from './toml-lines.js';
import type { KeyOptions } from './unlock.js';
import { openSecret, openVault, verifyVault, type OpenVault } from './vault.js';
import { withWriteLock, writeConfig, type WriteOptions } from './write.js';

export type RekeyTarget =
  | { readonly kind: 'file' }
  /** The passphrase is wiped by rekey. */
  | { readonly kind: 'passphrase'; readonly passphrase: Uint8Array; readonly cost: KdfCost };

export interface RekeyResult {
  readonly oldKeyId: string;
  readonly newKeyId: string;
  readonly keySource: 'file' | 'passphrase';
  readonly resealed: number;
}

function headerEdits(keyId: string, kdf: KdfParams | undefined): LineEdit[] {
  const salt = kdf === undefined ? undefined : Buffer.from(kdf.salt).toString('base64');
  const set = (key: string, value: string | number | undefined): LineEdit => ({
    table: 'vault',
    key,
    toml: value === undefined ? undefined : typeof value === 'number' ? String(value) : `"${value}"`,
    parsed: value,
  });
  return [
    set('key_id', keyId),
    set('key_source', kdf === undefined ? 'file' : 'passphrase'),
    set('kdf_salt', salt),
    set('kdf_opslimit', kdf?.opslimit),
    set('kdf_memlimit', kdf?.memlimit),
  ];
}

/** Re-seals every value under `newKey`; all values are opened first, so a tampered vault is refused. */
function resealAll(vault: OpenVault, newKey: Uint8Array, newKeyId: string): Result<LineEdit[], VaultError> {
  const failed = verifyVault(vault).find((report) => !report.ok);
  if (failed !== undefined)
    return err(vaultError(failed.code ?? 'TAMPERED', `not rekeyed: ${failed.message ?? failed.path}`));
  const edits: LineEdit[] = [];
  for (const path of vault.conf.sealed.keys()) {
    const secret = openSecret(vault, path);
    if (!secret.ok) return secret;
    const sealed = sealSecret(
      vault.key.sodium,
      newKey,
      newKeyId,
      { fileId: vault.conf.vault.fileId, path },
      secret.value,
    );
    vault.key.sodium.memzero(secret.value);
    const dot = path.indexOf('.');
    edits.push({ table: path.slice(0, dot), key: path.slice(dot + 1), toml: `"${sealed}"`, parsed: sealed });
  }
  return ok(edits);
}

/**
 * The order of steps is what makes a kill at any point safe (see docs/vault.md, "Rekey"):
 * 1. new key file written as psm.key.next (atomic); 2. virtual.conf replaced (atomic, names the
 * new key id); 3. psm.key.next renamed over psm.key (or psm.key removed for a passphrase).
 * Before 2 the old key opens the vault; after 2 the new key does, from psm.key.next until 3.
 */
async function commit(
  layout: Layout,
  vault: OpenVault,
  text: string,
  newKey: Uint8Array | undefined,
): Promise<Result<void, VaultError>> {
  try {
    if (newKey !== undefined) await writeKeyFile(layout.nextKeyFile, newKey);
    const written = await writeConfig(vault.conf.file, text);
    if (!written.ok) return written;
    if (newKey !== undefined) await rename(layout.nextKeyFile, layout.keyFile);
    else await unlink(layout.keyFile).catch(() => undefined);
    await unlink(layout.nextKeyFile).catch(() => undefined);
    await fsyncDirectory(layout.etcDir);
    return ok(undefined);
  } catch (error) {
    return err(
      vaultError('IO_FAILED', `rekey failed while writing (${errnoOf(error)}); run psm vault verify`),
    );
  }
}

async function rekeyLocked(
  layout: Layout,
  location: string,
  options: KeyOptions,
  target: RekeyTarget,
): Promise<Result<RekeyResult, VaultError>> {
  const vault = await openVault(location, options);
  if (!vault.ok) return vault;
  const { sodium } = vault.value.key;
  if (vault.value.key.origin === 'credential') {
    vault.value.close();
    return err(
      vaultError(
        'REKEY_REFUSED',
        'the key comes from systemd credentials ($CREDENTIALS_DIRECTORY): rekey outside the service, then replace the credential with the new etc/psm.key',
      ),
    );
  }
  if (vault.value.key.origin === 'next-key-file') {
    // A rekey was killed after its config was written: finish it before starting another, or
    // writing the next key would overwrite the only copy of the current one.
    try {
      await rename(layout.nextKeyFile, layout.keyFile);
      await fsyncDirectory(layout.etcDir);
    } catch (error) {
      vault.value.close();
      return err(vaultError('IO_FAILED', `cannot finish the earlier rekey (${errnoOf(error)})`));
    }
  }
  let newKey: Uint8Array | undefined;
  try {
    const kdf = target.kind === 'passphrase' ? newKdfParams(target.cost) : undefined;
    newKey =
      target.kind === 'passphrase' && kdf !== undefined
        ? deriveKey(sodium, target.passphrase, kdf)
        : newMasterKey();
    const newKeyId = keyIdOf(sodium, newKey);
    const values = resealAll(vault.value, newKey, newKeyId);
    if (!values.ok) return values;
    const edited = applyLineEdits(
      vault.value.text,
      [...headerEdits(newKeyId, kdf), ...values.value],
      vault.value.conf.file,
    );
    if (!edited.ok) return edited;
    const check = parseConfigText(edited.value, vault.value.conf.file, location);
    if (!check.ok) throw new Error(`bug: rekeyed config does not validate: ${check.error.message}`);
    const committed = await commit(
      layout,
      vault.value,
      edited.value,
      target.kind === 'file' ? newKey : undefined,
    );
    if (!committed.ok) return committed;
    return ok({
      oldKeyId: vault.value.key.keyId,
      newKeyId,
      keySource: target.kind,
      resealed: values.value.length,
    });
  } finally {
    if (newKey !== undefined) sodium.memzero(newKey);
    if (target.kind === 'passphrase') sodium.memzero(target.passphrase);
    vault.value.close();
  }
}

/** A new master key (or a switch between key file and passphrase); every value re-sealed at once. */
export async function rekeyVault(
  location: string,
  options: KeyOptions,
  target: RekeyTarget,
  write: WriteOptions = {},
): Promise<Result<RekeyResult, VaultError>> {
  try {
    return await withWriteLock(location, options, write, (layout, keyOptions) =>
      rekeyLocked(layout, location, keyOptions, target),
    );
  } finally {
    // rekeyLocked wipes it too; this covers a refusal before it ran (locked, bad input).
    if (target.kind === 'passphrase') target.passphrase.fill(0);
  }
}

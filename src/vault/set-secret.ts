import { err, ok, type Result } from '../common/result.js';
import { parseConfigText } from './config.js';
import { vaultError, type VaultError } from './errors.js';
import { MAX_SECRET_BYTES, sealSecret } from './sealed-value.js';
import { isSecretPath } from './schema-types.js';
import { applyLineEdits } from './toml-lines.js';
import type { KeyOptions } from './unlock.js';
import { openVault } from './vault.js';
import { layoutOf } from './layout.js';
import { removeStaleKeys, withWriteLock, writeConfig, type WriteOptions } from './write.js';

export interface SetResult {
  readonly path: string;
  readonly keyId: string;
  readonly replaced: boolean;
}

export function checkSecret(secret: Uint8Array): Result<void, VaultError> {
  if (secret.length === 0) return err(vaultError('BAD_SECRET', 'the secret is empty'));
  if (secret.length > MAX_SECRET_BYTES)
    return err(vaultError('BAD_SECRET', `the secret is longer than ${MAX_SECRET_BYTES} bytes`));
  return ok(undefined);
}

/**
 * Seals `secret` at `path` and replaces virtual.conf atomically. The key is checked before
 * anything is written, so a wrong key or passphrase leaves every file as it was. `secret` is
 * not wiped here: the caller owns it.
 */
export async function setSecret(
  location: string,
  path: string,
  secret: Uint8Array,
  options: KeyOptions,
  write: WriteOptions = {},
): Promise<Result<SetResult, VaultError>> {
  if (!isSecretPath(path))
    return err(
      vaultError(
        'BAD_PATH',
        `${path} is not a secret field: use hypervisor.password, worker.guest_password or secrets.NAME`,
      ),
    );
  const checked = checkSecret(secret);
  if (!checked.ok) return checked;
  return withWriteLock(location, options, write, async (_layout, keyOptions) => {
    const vault = await openVault(location, keyOptions);
    if (!vault.ok) return vault;
    try {
      const { conf, text, key } = vault.value;
      const sealed = sealSecret(key.sodium, key.key, key.keyId, { fileId: conf.vault.fileId, path }, secret);
      const [table, name] = [path.slice(0, path.indexOf('.')), path.slice(path.indexOf('.') + 1)];
      const edited = applyLineEdits(
        text,
        [{ table, key: name, toml: `"${sealed}"`, parsed: sealed }],
        conf.file,
      );
      if (!edited.ok) return edited;
      const check = parseConfigText(edited.value, conf.file, location);
      if (!check.ok) throw new Error(`bug: config after vault set does not validate: ${check.error.message}`);
      const written = await writeConfig(conf.file, edited.value);
      if (!written.ok) return written;
      await removeStaleKeys(layoutOf(location), conf.vault.keySource, key.path);
      return ok({ path, keyId: key.keyId, replaced: conf.sealed.has(path) });
    } finally {
      vault.value.close();
    }
  });
}

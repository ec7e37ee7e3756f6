import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { err, ok, type Result } from '../common/result.js';
import { parseConfigText } from './config.js';
import { vaultError, type VaultError } from './errors.js';
import { MAX_SECRET_BYTES, sealSecret } from './sealed-value.js';
import { isSecretPath } from './schema-types.js';
import { applyLineEdits } from './toml-lines.js';
import type { KeyOptions } from './unlock.js';
import { openSecret, openVault } from './vault.js';
import { withWriteLock, writeConfig, type WriteOptions } from './write.js';

/** A creation that finds the write lock taken waits this often, this long, before giving up. */
const LOCKED_RETRIES = 40;
const LOCKED_RETRY_MS = 50;

export interface EnsuredSecret {
  /** The secret's bytes; the caller wipes them (fill(0)) when done. */
  readonly value: Uint8Array;
  /** True when this call made the secret (it did not exist before). */
  readonly created: boolean;
}

/**
 * Opens the secret at `path`, or makes it (`length` random bytes, sealed into virtual.conf) when
 * it does not exist yet: for keys psm itself owns, such as the audit log's key. Reading needs no
 * lock; creating takes the vault's write lock and checks again under it, so two processes that
 * both find it missing end up with the same secret, never with two.
 */
export async function ensureSecret(
  location: string,
  path: string,
  length: number,
  options: KeyOptions,
  /** A caller's own --lock-wait: waited once, not retried. */
  write: WriteOptions = {},
): Promise<Result<EnsuredSecret, VaultError>> {
  if (!isSecretPath(path)) return err(vaultError('BAD_PATH', `${path} is not a secret path`));
  if (!Number.isInteger(length) || length < 1 || length > MAX_SECRET_BYTES)
    throw new Error(`bug: ensureSecret length ${length}`);
  const existing = await openExistingSecret(location, path, options);
  if (!existing.ok || existing.value !== null)
    return existing.ok ? ok({ value: existing.value as Uint8Array, created: false }) : existing;
  for (let attempt = 1; ; attempt += 1) {
    const made = await createUnderLock(location, path, length, options, write);
    // Another psm holds the vault's write lock for a moment (a set, or the same creation).
    const retry = write.lockWaitMs === undefined && attempt < LOCKED_RETRIES;
    if (made.ok || made.error.code !== 'LOCKED' || !retry) return made;
    await sleep(LOCKED_RETRY_MS);
  }
}

function createUnderLock(
  location: string,
  path: string,
  length: number,
  options: KeyOptions,
  write: WriteOptions,
): Promise<Result<EnsuredSecret, VaultError>> {
  // The write lock waits for other writers (its default --lock-wait); the key input is read first.
  return withWriteLock(
    location,
    options,
    write,
    async (_layout, keyOptions): Promise<Result<EnsuredSecret, VaultError>> => {
      const vault = await openVault(location, keyOptions);
      if (!vault.ok) return vault;
      try {
        const { conf, text, key } = vault.value;
        if (conf.sealed.has(path)) {
          const opened = openSecret(vault.value, path);
          return opened.ok ? ok({ value: opened.value, created: false }) : opened;
        }
        const secret = new Uint8Array(randomBytes(length));
        const sealed = sealSecret(
          key.sodium,
          key.key,
          key.keyId,
          { fileId: conf.vault.fileId, path },
          secret,
        );
        const dot = path.indexOf('.');
        const edited = applyLineEdits(
          text,
          [{ table: path.slice(0, dot), key: path.slice(dot + 1), toml: `"${sealed}"`, parsed: sealed }],
          conf.file,
        );
        const written = edited.ok ? await checkedWrite(conf.file, location, edited.value) : edited;
        if (!written.ok) {
          secret.fill(0);
          return written;
        }
        return ok({ value: secret, created: true });
      } finally {
        vault.value.close();
      }
    },
  );
}

/** The secret at `path`, or null when the vault has none there (nothing is written). */
export async function openExistingSecret(
  location: string,
  path: string,
  options: KeyOptions,
): Promise<Result<Uint8Array | null, VaultError>> {
  const vault = await openVault(location, options);
  if (!vault.ok) return vault;
  try {
    if (!vault.value.conf.sealed.has(path)) return ok(null);
    return openSecret(vault.value, path);
  } finally {
    vault.value.close();
  }
}

async function checkedWrite(file: string, location: string, text: string): Promise<Result<void, VaultError>> {
  const check = parseConfigText(text, file, location);
  if (!check.ok) throw new Error(`bug: config after ensureSecret does not validate: ${check.error.message}`);
  return writeConfig(file, text);
}

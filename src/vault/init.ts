import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../common/atomic-write.js';
import { err, ok, type Result } from '../common/result.js';
import { errnoOf } from '../common/errno.js';
import { vaultError, type VaultError } from './errors.js';
import { parseLegacy, type LegacyConf } from './legacy.js';
import { acquireLock } from './lock.js';
import { checkLocation, layoutOf, type Layout } from './layout.js';
import {
  deriveKey,
  keyIdOf,
  newKdfParams,
  newMasterKey,
  readKeyFile,
  writeKeyFile,
  type KdfCost,
} from './master-key.js';
import { sealSecret } from './sealed-value.js';
import type { HypervisorKind } from './schema-types.js';
import { loadSodium, type Sodium } from './sodium.js';
import { generateSshKeyPair, wipeSshKeyPair } from './ssh-keypair.js';
import { renderConfig, type ConfigSeed } from './template.js';
import { loadConfig, parseConfigText } from './config.js';
import { unlockKey, wipeVaultKey } from './unlock.js';
import { removeLeftovers } from './write.js';

export interface InitOptions {
  readonly location: string;
  readonly force: boolean;
  readonly kind: HypervisorKind;
  /** Seal with this passphrase instead of a key file; wiped by initVault. */
  readonly passphrase?: Uint8Array;
  readonly kdfCost: KdfCost;
  /** A 2010-style virtual.conf to import; wiped by initVault. */
  readonly legacy?: { readonly file: string; readonly bytes: Uint8Array };
  /** How long to wait for another writer (default DEFAULT_LOCK_WAIT_MS). */
  readonly lockWaitMs?: number;
}

export interface InitReport {
  readonly location: string;
  readonly created: string[];
  readonly kept: string[];
  readonly keyId: string;
  readonly keySource: 'file' | 'passphrase';
  readonly adminKeyFingerprint: string | undefined;
  readonly warnings: string[];
}

/**
 * Creates `path` with `mode` when missing. The location and var/ are shared with the rest of
 * POP-C++ (755); psm's own directories are 700, and an existing one that is more open is reported.
 */
async function makeDir(path: string, mode: number, report: InitReport): Promise<void> {
  if (existsSync(path)) {
    const actual = (await stat(path)).mode & 0o777;
    if (mode === 0o700 && (actual & 0o077) !== 0)
      report.warnings.push(`${path} has mode ${actual.toString(8)}; psm expects 700 (chmod 700 ${path})`);
    return;
  }
  await mkdir(path, { mode });
  await chmod(path, mode);
  report.created.push(path);
}

function seedFromLegacy(
  legacy: LegacyConf | undefined,
  kind: HypervisorKind,
): Omit<ConfigSeed, 'fileId' | 'keyId' | 'kdf' | 'sealed'> {
  if (legacy === undefined) return { kind };
  const clones =
    legacy.numClone === undefined
      ? undefined
      : legacy.numClone < 0
        ? Math.min(2, legacy.maxVms ?? 4)
        : legacy.numClone;
  return {
    kind: 'vsphere',
    uri: legacy.uri,
    username: legacy.username,
    ...(legacy.datastore === undefined ? {} : { datastore: legacy.datastore }),
    ...(legacy.maxVms === undefined ? {} : { maxVms: legacy.maxVms }),
    ...(clones === undefined ? {} : { cloneAtStart: Math.min(clones, legacy.maxVms ?? 4) }),
    ...(legacy.workerName === undefined
      ? {}
      : { template: legacy.workerName, namePrefix: `${legacy.workerName.slice(0, 30)}-` }),
    ...(legacy.snapshot === undefined ? {} : { cleanSnapshot: legacy.snapshot }),
    ...(legacy.hostUser === undefined ? {} : { guestUser: legacy.hostUser }),
  };
}

async function writeNewConfig(
  sodium: Sodium,
  layout: Layout,
  options: InitOptions,
  legacy: LegacyConf | undefined,
  report: InitReport & { keyId: string; keySource: 'file' | 'passphrase' },
): Promise<Result<void, VaultError>> {
  const kdf = options.passphrase === undefined ? undefined : newKdfParams(options.kdfCost);
  let key: Uint8Array;
  let keyIsNew = true;
  if (kdf !== undefined && options.passphrase !== undefined) key = deriveKey(sodium, options.passphrase, kdf);
  else if (existsSync(layout.keyFile) && !options.force) {
    const existing = await readKeyFile(layout.keyFile);
    if (!existing.ok) return existing;
    key = existing.value;
    keyIsNew = false;
    report.kept.push(layout.keyFile);
  } else key = newMasterKey();
  try {
    const keyId = keyIdOf(sodium, key);
    const fileId = randomBytes(16).toString('hex');
    const sealed = new Map<string, string>();
    const seal = (path: string, secret: Uint8Array | undefined): void => {
      if (secret !== undefined) sealed.set(path, sealSecret(sodium, key, keyId, { fileId, path }, secret));
    };
    seal('hypervisor.password', legacy?.password);
    seal('worker.guest_password', legacy?.hostPass);
    const text = renderConfig(
      { ...seedFromLegacy(legacy, options.kind), fileId, keyId, kdf, sealed },
      layout,
    );
    // An imported value the schema refuses (e.g. an upper-case guest user) stops here, unwritten.
    const valid = parseConfigText(text, layout.configFile, options.location);
    if (!valid.ok)
      return err(
        vaultError('LEGACY_INVALID', `the imported settings are not valid for psm: ${valid.error.message}`, {
          ...(options.legacy === undefined ? {} : { file: options.legacy.file }),
        }),
      );
    // Key before config, through psm.key.next, so no crash leaves a config naming a missing key.
    if (kdf === undefined && keyIsNew) await writeKeyFile(layout.nextKeyFile, key);
    await writeFileAtomic(layout.configFile, text, { mode: 0o600 });
    if (kdf === undefined && keyIsNew) {
      await rename(layout.nextKeyFile, layout.keyFile);
      report.created.push(layout.keyFile);
    }
    if (kdf !== undefined) await unlink(layout.keyFile).catch(() => undefined);
    await fsyncDirectory(layout.etcDir);
    report.created.push(layout.configFile);
    report.keyId = keyId;
    report.keySource = kdf === undefined ? 'file' : 'passphrase';
    return ok(undefined);
  } finally {
    sodium.memzero(key);
  }
}

async function keepConfig(
  layout: Layout,
  options: InitOptions,
  report: InitReport & { keyId: string; keySource: 'file' | 'passphrase' },
): Promise<Result<void, VaultError>> {
  if (options.legacy !== undefined)
    return err(
      vaultError(
        'WOULD_OVERWRITE',
        `${layout.configFile} exists; add --force to replace it with the imported one (its sealed values are lost)`,
      ),
    );
  const conf = await loadConfig(options.location);
  if (!conf.ok) return conf;
  if (conf.value.vault.keySource === 'file' && !existsSync(layout.keyFile) && !existsSync(layout.nextKeyFile))
    return err(
      vaultError(
        'KEY_MISSING',
        `${layout.configFile} exists but its key file ${layout.keyFile} is missing: restore it, or run psm init --force to start over (sealed values are lost)`,
      ),
    );
  report.kept.push(layout.configFile);
  if (options.passphrase !== undefined)
    report.warnings.push(
      'virtual.conf exists, so the passphrase was not used: psm vault rekey --to passphrase switches to one',
    );
  if (conf.value.vault.keySource === 'file') {
    report.kept.push(layout.keyFile);
    const key = await unlockKey(conf.value, {});
    if (key.ok) wipeVaultKey(key.value);
    else report.warnings.push(`${key.error.code}: ${key.error.message}`);
  }
  report.keyId = conf.value.vault.keyId;
  report.keySource = conf.value.vault.keySource;
  return ok(undefined);
}

async function adminKeyPair(
  layout: Layout,
  force: boolean,
  report: InitReport & { adminKeyFingerprint: string | undefined },
): Promise<void> {
  if (existsSync(layout.adminKey) && !force) {
    report.kept.push(layout.adminKey);
    if (!existsSync(`${layout.adminKey}.pub`))
      report.warnings.push(
        `${layout.adminKey}.pub is missing: ssh-keygen -y -f ${layout.adminKey} > ${layout.adminKey}.pub`,
      );
    return;
  }
  const pair = generateSshKeyPair(`psm-admin@${hostname()}`);
  try {
    await writeFileAtomic(layout.adminKey, pair.privateKey, { mode: 0o600 });
    await writeFileAtomic(`${layout.adminKey}.pub`, pair.publicKey, { mode: 0o644 });
  } finally {
    wipeSshKeyPair(pair);
  }
  report.created.push(layout.adminKey, `${layout.adminKey}.pub`);
  report.adminKeyFingerprint = pair.fingerprint;
}

/** `psm init`: idempotent; never overwrites without force. Wipes options.passphrase and legacy bytes. */
export async function initVault(options: InitOptions): Promise<Result<InitReport, VaultError>> {
  const location = checkLocation(options.location);
  if (!location.ok) {
    options.passphrase?.fill(0);
    options.legacy?.bytes.fill(0);
    return location;
  }
  const layout = layoutOf(options.location);
  const report = {
    location: options.location,
    created: [] as string[],
    kept: [] as string[],
    keyId: '',
    keySource: 'file' as 'file' | 'passphrase',
    adminKeyFingerprint: undefined as string | undefined,
    warnings: [] as string[],
  };
  let legacy: LegacyConf | undefined;
  try {
    if (options.legacy !== undefined) {
      const parsed = parseLegacy(options.legacy.bytes, options.legacy.file);
      if (!parsed.ok) return parsed;
      legacy = parsed.value;
      report.warnings.push(...legacy.warnings);
    }
    const sodium = await loadSodium();
    await mkdir(dirname(layout.location), { recursive: true });
    for (const [dir, mode] of [
      [layout.location, 0o755],
      [dirname(layout.psmDir), 0o755],
      [layout.etcDir, 0o700],
      [layout.policiesDir, 0o700],
      [layout.psmDir, 0o700],
      [layout.keysDir, 0o700],
      [layout.stateDir, 0o700],
      [layout.imagesDir, 0o700],
    ] as const)
      await makeDir(dir, mode, report);
    const lock = await acquireLock(layout.lockFile, options.lockWaitMs);
    if (!lock.ok) return lock;
    try {
      await removeLeftovers(layout);
      const configExists = existsSync(layout.configFile);
      const configDone =
        configExists && !options.force
          ? await keepConfig(layout, options, report)
          : await writeNewConfig(sodium, layout, options, legacy, report);
      if (!configDone.ok) return configDone;
      await adminKeyPair(layout, options.force, report);
    } finally {
      await lock.value();
    }
    return ok(report);
  } catch (error) {
    return err(
      vaultError('IO_FAILED', `psm init could not write under ${options.location} (${errnoOf(error)})`),
    );
  } finally {
    options.passphrase?.fill(0);
    options.legacy?.bytes.fill(0);
    legacy?.password?.fill(0);
    legacy?.hostPass?.fill(0);
  }
}

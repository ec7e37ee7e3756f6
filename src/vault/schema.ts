import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { err, ok, type Result } from '../common/result.js';
import { vaultError, type VaultError, type VaultErrorCode } from './errors.js';
import { KDF_LIMITS, SALT_BYTES } from './master-key.js';
import { decodeBase64Strict, looksSealed, parseSealed } from './sealed-value.js';
import { SECRET_NAME, VAULT_FORMAT, type SealedField, type VirtualConf } from './schema-types.js';
import { lineOf, type LineIndex } from './toml-lines.js';

/** Longest plain string value accepted anywhere in virtual.conf. */
export const MAX_STRING = 4096;
/** The named limits of [pool]; the job manager checks its daemon flags against the same ones. */
export const POOL_LIMITS = {
  maxVms: 1000,
  /** 30 days: an application idle longer is surely gone. */
  idleTimeoutSeconds: 30 * 24 * 3600,
  defaultIdleTimeoutSeconds: 3600,
} as const;
export const ON_APP_END_CHOICES = ['revert', 'destroy'] as const;

const TABLE_KEYS: Record<string, readonly string[]> = {
  vault: ['format', 'file_id', 'key_id', 'key_source', 'kdf_salt', 'kdf_opslimit', 'kdf_memlimit'],
  hypervisor: [
    'kind',
    'uri',
    'username',
    'password',
    'tls_ca',
    'tls_sha256',
    'folder',
    'resource_pool',
    'strict_role',
  ],
  storage: ['dir', 'datastore'],
  qemu: ['image_dir', 'memory_mib', 'accel', 'network', 'bridge'],
  pool: ['max_vms', 'keep_free', 'clone_at_start', 'idle_timeout', 'on_app_end'],
  worker: [
    'name_prefix',
    'template',
    'template_snapshot',
    'clean_snapshot',
    'guest_user',
    'guest_password',
    'admin_address',
  ],
  paths: ['keys', 'policies', 'state'],
  secrets: [],
};

type Table = Record<string, unknown>;

/** Thrown inside validation only, caught in validateConf: keeps each check to one line. */
class SchemaFailure {
  constructor(readonly error: VaultError) {}
}

class Reader {
  constructor(
    private readonly doc: Table,
    private readonly index: LineIndex,
    private readonly file: string,
  ) {}

  fail(path: string, message: string, code: VaultErrorCode = 'CONFIG_INVALID'): never {
    throw new SchemaFailure(
      vaultError(code, `${path}: ${message}`, { file: this.file, line: lineOf(this.index, path) }),
    );
  }

  table(name: string): Table | undefined {
    const value = this.doc[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date)
      this.fail(name, 'must be a table ([' + name + '])');
    return value as Table;
  }

  private raw(path: string): unknown {
    const [table, key] = path.split('.') as [string, string];
    return this.table(table)?.[key];
  }

  string(path: string, required: true, pattern?: RegExp): string;
  string(path: string, required: boolean, pattern?: RegExp): string | undefined;
  string(path: string, required: boolean, pattern?: RegExp): string | undefined {
    const value = this.raw(path);
    if (value === undefined) return required ? this.fail(path, 'is required') : undefined;
    if (typeof value !== 'string') this.fail(path, 'must be a string');
    if (value.length === 0 || value.length > MAX_STRING)
      this.fail(path, `must be 1 to ${MAX_STRING} characters`);
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    if (/[\x00-\x1f\x7f]/.test(value)) this.fail(path, 'must not contain control characters or line breaks');
    // Secret fields are read by sealed(), never here: a sealed value in a plain field is misplaced.
    if (looksSealed(value)) this.fail(path, 'holds a sealed value, but it is not a secret field');
    if (pattern !== undefined && !pattern.test(value)) this.fail(path, `does not match ${pattern.source}`);
    return value;
  }

  choice<T extends string>(path: string, choices: readonly T[], fallback?: T): T {
    const value = this.raw(path);
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value))
      this.fail(path, `must be one of ${choices.map((c) => `"${c}"`).join(', ')}`);
    return value as T;
  }

  boolean(path: string, fallback: boolean): boolean {
    const value = this.raw(path);
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(path, 'must be true or false');
    return value;
  }

  integer(path: string, min: number, max: number, fallback?: number): number {
    const value = this.raw(path);
    if (value === undefined && fallback !== undefined) return fallback;
    if (value === undefined) this.fail(path, 'is required');
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      this.fail(path, `must be a whole number from ${min} to ${max}`);
    return value;
  }

  absolutePath(path: string, required: true): string;
  absolutePath(path: string, required: boolean): string | undefined;
  absolutePath(path: string, required: boolean): string | undefined {
    const value = required ? this.string(path, true) : this.string(path, false);
    if (value !== undefined && !isAbsolute(value)) this.fail(path, 'must be an absolute path');
    return value;
  }

  sealed(path: string, sealed: Map<string, SealedField>): boolean {
    const value = this.raw(path);
    if (value === undefined) return false;
    if (typeof value !== 'string') this.fail(path, 'must be a sealed value (a string)');
    if (!looksSealed(value))
      this.fail(
        path,
        'holds plain text; secrets are stored only sealed: run psm vault set ' + path,
        'PLAINTEXT_SECRET',
      );
    const parsed = parseSealed(value, path);
    if (!parsed.ok) this.fail(path, parsed.error.message.replace(`${path}: `, ''), parsed.error.code);
    sealed.set(path, { path, text: value, line: lineOf(this.index, path) });
    return true;
  }

  rejectUnknown(): void {
    for (const [name, value] of Object.entries(this.doc)) {
      const allowed = TABLE_KEYS[name];
      if (allowed === undefined) this.fail(name, 'is not a setting psm knows (a typo?)');
      this.table(name);
      if (name === 'secrets') continue;
      for (const key of Object.keys(value as Table))
        if (!allowed.includes(key)) this.fail(`${name}.${key}`, 'is not a setting psm knows (a typo?)');
    }
  }
}

function readVault(r: Reader): VirtualConf['vault'] {
  if (r.table('vault') === undefined) r.fail('vault', 'the [vault] table is missing');
  const format = r.integer('vault.format', 0, Number.MAX_SAFE_INTEGER);
  if (format !== VAULT_FORMAT)
    r.fail(
      'vault.format',
      `is ${format}; this psm knows vault format ${VAULT_FORMAT}`,
      'UNKNOWN_FORMAT_VERSION',
    );
  const fileId = r.string('vault.file_id', true, /^[0-9a-f]{32}$/);
  const keyId = r.string('vault.key_id', true, /^[0-9a-f]{16}$/);
  const keySource = r.choice('vault.key_source', ['file', 'passphrase'] as const);
  const kdfKeys = ['vault.kdf_salt', 'vault.kdf_opslimit', 'vault.kdf_memlimit'];
  if (keySource === 'file') {
    for (const path of kdfKeys)
      if (r.table('vault')?.[path.slice(6)] !== undefined)
        r.fail(path, 'is only used with key_source = "passphrase"');
    return { format: VAULT_FORMAT, fileId, keyId, keySource };
  }
  const salt = decodeBase64Strict(r.string('vault.kdf_salt', true));
  if (salt === undefined || salt.length !== SALT_BYTES)
    r.fail('vault.kdf_salt', `must be ${SALT_BYTES} bytes in base64`);
  const opslimit = r.integer('vault.kdf_opslimit', KDF_LIMITS.minOps, KDF_LIMITS.maxOps);
  const memlimit = r.integer('vault.kdf_memlimit', KDF_LIMITS.minMem, KDF_LIMITS.maxMem);
  return { format: VAULT_FORMAT, fileId, keyId, keySource, kdf: { salt, opslimit, memlimit } };
}

function readConf(r: Reader, file: string, location: string): VirtualConf {
  r.rejectUnknown();
  const vault = readVault(r);
  const sealed = new Map<string, SealedField>();
  const kind = r.choice('hypervisor.kind', ['qemu', 'vsphere'] as const);
  const vsphere = kind === 'vsphere';
  const hypervisor = {
    kind,
    uri: r.string('hypervisor.uri', vsphere),
    username: r.string('hypervisor.username', vsphere),
    hasPassword: r.sealed('hypervisor.password', sealed),
    // vSphere only: the TLS pin (one of the two), where workers live, and the role check.
    tlsCa: r.absolutePath('hypervisor.tls_ca', false),
    tlsSha256: r.string('hypervisor.tls_sha256', false, /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/),
    folder: r.string('hypervisor.folder', false),
    resourcePool: r.string('hypervisor.resource_pool', false),
    strictRole: r.boolean('hypervisor.strict_role', false),
  };
  // A vSphere config without a pin is valid (a 2010 import has none yet); the driver refuses it.
  if (hypervisor.tlsCa !== undefined && hypervisor.tlsSha256 !== undefined)
    r.fail('hypervisor.tls_sha256', 'pin with tls_ca or tls_sha256, not both');
  const storage = {
    dir: r.absolutePath('storage.dir', !vsphere),
    datastore: r.string('storage.datastore', vsphere),
  };
  const network = r.choice('qemu.network', ['user', 'bridge'] as const, 'user');
  const qemu =
    kind === 'qemu'
      ? {
          imageDir: r.absolutePath('qemu.image_dir', true),
          memoryMib: r.integer('qemu.memory_mib', 64, 1024 * 1024, 512),
          accel: r.choice('qemu.accel', ['auto', 'kvm', 'tcg'] as const, 'auto'),
          network,
          bridge: r.string('qemu.bridge', network === 'bridge', /^[A-Za-z0-9_.-]{1,15}$/),
        }
      : undefined;
  const maxVms = r.integer('pool.max_vms', 1, POOL_LIMITS.maxVms);
  const pool = {
    maxVms,
    keepFree: r.integer('pool.keep_free', 0, maxVms, Math.min(2, maxVms)),
    cloneAtStart: r.integer('pool.clone_at_start', 0, maxVms, 0),
    idleTimeoutSeconds: r.integer(
      'pool.idle_timeout',
      0,
      POOL_LIMITS.idleTimeoutSeconds,
      POOL_LIMITS.defaultIdleTimeoutSeconds,
    ),
    onAppEnd: r.choice('pool.on_app_end', ON_APP_END_CHOICES, 'revert'),
  };
  const worker = {
    namePrefix: r.string('worker.name_prefix', true, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/),
    template: r.string('worker.template', true),
    templateSnapshot: r.string('worker.template_snapshot', false, /^[A-Za-z0-9_-]{1,64}$/),
    cleanSnapshot: r.string('worker.clean_snapshot', false) ?? 'clean',
    guestUser: r.string('worker.guest_user', true, /^[a-z_][a-z0-9_-]{0,31}$/),
    hasGuestPassword: r.sealed('worker.guest_password', sealed),
    adminAddress: adminAddress(r, kind === 'qemu' && network === 'user'),
  };
  const paths = {
    keys: r.absolutePath('paths.keys', true),
    policies: r.absolutePath('paths.policies', true),
    state: r.absolutePath('paths.state', true),
  };
  for (const name of Object.keys(r.table('secrets') ?? {})) {
    if (!SECRET_NAME.test(name)) r.fail(`secrets.${name}`, `secret names match ${SECRET_NAME.source}`);
    r.sealed(`secrets.${name}`, sealed);
  }
  return { file, location, vault, hypervisor, storage, qemu, pool, worker, paths, sealed };
}

/**
 * Where the workers see the admin VM's SSH connections come from: the admin policy's `from` must
 * include it (key exchange refuses otherwise). Under QEMU user networking every connection into
 * a guest comes from the slirp gateway, 10.0.2.2, so that is the default there; elsewhere it
 * depends on the network and must be set.
 */
export const QEMU_USER_ADMIN_ADDRESS = '10.0.2.2';

function adminAddress(r: Reader, userNetworking: boolean): string {
  const value = r.string('worker.admin_address', !userNetworking) ?? QEMU_USER_ADMIN_ADDRESS;
  if (isIP(value) === 0) r.fail('worker.admin_address', 'must be an IPv4 or IPv6 address');
  return value;
}

/** Validates a parsed virtual.conf against the schema; errors carry file:line. */
export function validateConf(
  doc: Table,
  index: LineIndex,
  file: string,
  location: string,
): Result<VirtualConf, VaultError> {
  try {
    return ok(readConf(new Reader(doc, index, file), file, location));
  } catch (error) {
    if (error instanceof SchemaFailure) return err(error.error);
    throw error;
  }
}

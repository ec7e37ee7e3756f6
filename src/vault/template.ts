import type { KdfParams } from './master-key.js';
import type { HypervisorKind } from './schema-types.js';
import type { Layout } from './layout.js';
import { QEMU_USER_ADMIN_ADDRESS } from './schema.js';

/** What `psm init` (and --import-legacy) writes into a new virtual.conf. */
export interface ConfigSeed {
  readonly fileId: string;
  readonly keyId: string;
  readonly kdf: KdfParams | undefined;
  readonly kind: HypervisorKind;
  readonly uri?: string;
  readonly username?: string;
  /** Sealed texts by path, e.g. "hypervisor.password" → "psm-sealed:v1:...". */
  readonly sealed: ReadonlyMap<string, string>;
  readonly datastore?: string;
  readonly maxVms?: number;
  readonly keepFree?: number;
  readonly cloneAtStart?: number;
  readonly namePrefix?: string;
  readonly template?: string;
  readonly cleanSnapshot?: string;
  readonly guestUser?: string;
  readonly adminAddress?: string;
}

/** A TOML basic string: quotes, backslashes and control characters escaped. */
export function tomlString(value: string): string {
  // eslint-disable-next-line no-control-regex -- escaping control characters is the point
  const escaped = value.replace(/[\\"\x00-\x1f\x7f]/g, (c) =>
    c === '\\' ? '\\\\' : c === '"' ? '\\"' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `"${escaped}"`;
}

function line(key: string, value: string | number | undefined, comment?: string): string[] {
  const text =
    typeof value === 'number' ? String(value) : value === undefined ? undefined : tomlString(value);
  if (text === undefined) return comment === undefined ? [] : [`# ${key} = ${comment}`];
  return [`${key} = ${text}`];
}

function sealedLine(seed: ConfigSeed, path: string, hint: string): string[] {
  const sealed = seed.sealed.get(path);
  const key = path.slice(path.indexOf('.') + 1);
  return sealed === undefined ? [`# ${key}: sealed only; set it with: ${hint}`] : [`${key} = "${sealed}"`];
}

export function renderConfig(seed: ConfigSeed, layout: Layout): string {
  const qemu = seed.kind === 'qemu';
  const secrets = [...seed.sealed].filter(([path]) => path.startsWith('secrets.'));
  return [
    '# psm virtual.conf: hypervisor, pool and worker settings for Virtual POP-C++.',
    '# Plain settings may be edited by hand. Secrets are stored only sealed (XChaCha20-Poly1305);',
    '# change them with `psm vault set PATH`, never by hand. Check the file with `psm vault verify`.',
    '',
    '# Written by psm: which master key seals the secrets below. Do not edit.',
    '[vault]',
    'format = 1',
    `file_id = "${seed.fileId}"`,
    `key_id = "${seed.keyId}"`,
    `key_source = "${seed.kdf === undefined ? 'file' : 'passphrase'}"`,
    ...(seed.kdf === undefined
      ? []
      : [
          `kdf_salt = "${Buffer.from(seed.kdf.salt).toString('base64')}"`,
          `kdf_opslimit = ${seed.kdf.opslimit}`,
          `kdf_memlimit = ${seed.kdf.memlimit}`,
        ]),
    '',
    '[hypervisor]',
    '# "qemu" (local QEMU/KVM) or "vsphere" (ESXi / vCenter)',
    `kind = "${seed.kind}"`,
    ...(qemu || seed.uri !== undefined
      ? []
      : ['# CHANGE these vsphere placeholders (and storage.datastore)']),
    ...line(
      'uri',
      seed.uri ?? (qemu ? undefined : 'https://esx.example.org/sdk'),
      '"qemu:///system"   (optional)',
    ),
    ...line('username', seed.username ?? (qemu ? undefined : 'popc'), '"psm"   (optional for qemu)'),
    ...sealedLine(seed, 'hypervisor.password', 'psm vault set hypervisor.password'),
    '',
    '[storage]',
    ...(qemu ? line('dir', layout.imagesDir) : line('datastore', seed.datastore ?? 'datastore1')),
    '',
    ...(qemu
      ? [
          '[qemu]',
          '# where the worker template image and the clones live',
          ...line('image_dir', layout.imagesDir),
          'memory_mib = 512',
          '# "auto" uses KVM when /dev/kvm is usable, else TCG',
          'accel = "auto"',
          '# "user" (no root needed) or "bridge" (then also: bridge = "br0")',
          'network = "user"',
          '',
        ]
      : []),
    '[pool]',
    '# most worker VMs at once',
    `max_vms = ${seed.maxVms ?? 4}`,
    '# clones kept ready ahead of demand',
    `keep_free = ${seed.keepFree ?? Math.min(2, seed.maxVms ?? 4)}`,
    '# clones made when the daemon starts',
    `clone_at_start = ${seed.cloneAtStart ?? 0}`,
    '# seconds an application may hold its worker with no job before psm ends it (0: never)',
    'idle_timeout = 3600',
    '# what ending an application does to its worker: "revert" (clean snapshot) or "destroy"',
    'on_app_end = "revert"',
    '',
    '[worker]',
    ...line('name_prefix', seed.namePrefix ?? 'popc-worker-'),
    ...line('template', seed.template ?? 'popc-worker-template'),
    ...line('clean_snapshot', seed.cleanSnapshot ?? 'clean'),
    ...line('guest_user', seed.guestUser ?? 'popc'),
    ...sealedLine(seed, 'worker.guest_password', 'psm vault set worker.guest_password'),
    '# where the workers see the admin VM connect from: policies/admin.yaml `from` must include it',
    `admin_address = "${seed.adminAddress ?? (qemu ? QEMU_USER_ADMIN_ADDRESS : '192.0.2.1')}"`,
    ...(qemu
      ? ['# (10.0.2.2 is the QEMU user-network gateway every connection into a worker comes from)']
      : ["# CHANGE this placeholder to the admin VM address on the workers' network"]),
    '',
    '[paths]',
    ...line('keys', layout.keysDir),
    ...line('policies', layout.policiesDir),
    ...line('state', layout.stateDir),
    ...(secrets.length === 0
      ? []
      : ['', '[secrets]', ...secrets.map(([path, text]) => `${path.slice(8)} = "${text}"`)]),
    '',
  ].join('\n');
}

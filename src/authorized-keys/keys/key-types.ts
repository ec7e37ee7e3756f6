import type { CurveName } from './ec-point.js';

/** The plain (non-certificate) key types psm reads, as they appear in text and inside blobs. */
export const PLAIN_KEY_TYPE_NAMES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

export const CERT_KEY_TYPE_NAMES = [
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'ssh-rsa-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
] as const;

export type PlainKeyTypeName = (typeof PLAIN_KEY_TYPE_NAMES)[number];
export type CertKeyTypeName = (typeof CERT_KEY_TYPE_NAMES)[number];
export type KeyTypeName = PlainKeyTypeName | CertKeyTypeName;

export const KEY_TYPE_NAMES: readonly KeyTypeName[] = [...PLAIN_KEY_TYPE_NAMES, ...CERT_KEY_TYPE_NAMES];

/** What the key material looks like, independent of whether it is wrapped in a certificate. */
export type KeyAlgorithm =
  | { readonly kind: 'ed25519' }
  | { readonly kind: 'sk-ed25519' }
  | { readonly kind: 'ecdsa'; readonly curve: CurveName }
  | { readonly kind: 'sk-ecdsa'; readonly curve: 'nistp256' }
  | { readonly kind: 'rsa' };

export interface KeyTypeInfo {
  readonly name: KeyTypeName;
  readonly plain: PlainKeyTypeName;
  readonly certificate: boolean;
  readonly algorithm: KeyAlgorithm;
}

const ALGORITHMS: Readonly<Record<PlainKeyTypeName, KeyAlgorithm>> = {
  'ssh-ed25519': { kind: 'ed25519' },
  'ecdsa-sha2-nistp256': { kind: 'ecdsa', curve: 'nistp256' },
  'ecdsa-sha2-nistp384': { kind: 'ecdsa', curve: 'nistp384' },
  'ecdsa-sha2-nistp521': { kind: 'ecdsa', curve: 'nistp521' },
  'ssh-rsa': { kind: 'rsa' },
  'sk-ssh-ed25519@openssh.com': { kind: 'sk-ed25519' },
  'sk-ecdsa-sha2-nistp256@openssh.com': { kind: 'sk-ecdsa', curve: 'nistp256' },
};

const CERT_SUFFIX = '-cert-v01@openssh.com';

function certName(plain: PlainKeyTypeName): CertKeyTypeName {
  const at = plain.indexOf('@');
  const stem = at === -1 ? plain : plain.slice(0, at);
  return `${stem}${CERT_SUFFIX}` as CertKeyTypeName;
}

const INFO = new Map<string, KeyTypeInfo>();
for (const plain of PLAIN_KEY_TYPE_NAMES) {
  const algorithm = ALGORITHMS[plain];
  INFO.set(plain, { name: plain, plain, certificate: false, algorithm });
  const cert = certName(plain);
  INFO.set(cert, { name: cert, plain, certificate: true, algorithm });
}

/**
 * Signature-algorithm names that sshd's key table also lists (as "sigonly" entries) and therefore
 * accepts as key type names in a key line, for the same key: `rsa-sha2-256 AAAA...` is an
 * ssh-rsa key to sshd (checked against OpenSSH 9.2 ssh-keygen and sshd).
 */
const TYPE_ALIASES: ReadonlyMap<string, KeyTypeName> = new Map([
  ['rsa-sha2-256', 'ssh-rsa'],
  ['rsa-sha2-512', 'ssh-rsa'],
  ['rsa-sha2-256-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com'],
  ['rsa-sha2-512-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com'],
  ['webauthn-sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com'],
]);

/**
 * Inside a key blob sshd also accepts a plain type's short name in any case (sshkey_type_from_name).
 * ECDSA short names are left out: sshd then fails the curve check, so they never load.
 */
const BLOB_SHORT_NAMES: ReadonlyMap<string, KeyTypeName> = new Map([
  ['ed25519', 'ssh-ed25519'],
  ['rsa', 'ssh-rsa'],
  ['ed25519-sk', 'sk-ssh-ed25519@openssh.com'],
]);

/** Exact, case-sensitive lookup of a canonical name. */
export function keyTypeInfo(name: string): KeyTypeInfo | undefined {
  return INFO.get(name);
}

/** The type a key line's type field names, like sshd's peek_type_nid (exact names and aliases). */
export function textKeyType(name: string): KeyTypeInfo | undefined {
  const info = INFO.get(name);
  if (info !== undefined) return info;
  const alias = TYPE_ALIASES.get(name);
  return alias === undefined ? undefined : INFO.get(alias);
}

/** The type a key blob's inner name means, like sshd's sshkey_type_from_name. */
export function blobKeyType(name: string): KeyTypeInfo | undefined {
  const info = textKeyType(name);
  if (info !== undefined || name.length > 10) return info;
  const short = BLOB_SHORT_NAMES.get(name.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  return short === undefined ? undefined : INFO.get(short);
}

/** True for every name sshd reads as a key type in a key line. */
export function isKeyTypeName(name: string): boolean {
  return textKeyType(name) !== undefined;
}

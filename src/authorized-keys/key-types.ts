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

/** Exact, case-sensitive lookup, like sshd's peek_type_nid. */
export function keyTypeInfo(name: string): KeyTypeInfo | undefined {
  return INFO.get(name);
}

export function isKeyTypeName(name: string): name is KeyTypeName {
  return INFO.has(name);
}

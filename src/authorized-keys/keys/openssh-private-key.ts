import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { sha256Fingerprint } from './public-key.js';
import { derSequence } from './der-reader.js';
import { armourOpensshKey } from './pem-armour.js';
import { concatAndWipe, mpint, sshString, uint32 } from './ssh-wire.js';

/**
 * SSH key pairs made in process with node:crypto and written in the formats OpenSSH reads:
 * the unencrypted "openssh-key-v1" private key file (PROTOCOL.key) and the one-line public key.
 * Unencrypted because sshd reads host keys unattended; the file is only ever written 0600 into
 * a guest (or, for the admin's own key, into a 0700 directory). No ssh-keygen child, nothing in
 * argv. Private bytes exist only in Buffers/Uint8Arrays this module wipes, plus the returned
 * `privateKey`, which the caller wipes with `wipeKeyPair` once it is installed.
 */
export type SshKeyAlgorithm = 'ed25519' | 'ecdsa' | 'rsa';

export const SSH_KEY_ALGORITHMS: readonly SshKeyAlgorithm[] = ['ed25519', 'ecdsa', 'rsa'];

/** RSA size psm makes: 3072 bits, ssh-keygen's default and NIST's 128-bit-security level. */
export const RSA_BITS = 3072;

const AUTH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
/** The cipher block size of "none": the private section is padded to a multiple of it. */
const BLOCK_SIZE = 8;

export interface SshKeyPair {
  readonly algorithm: SshKeyAlgorithm;
  /** The key type as ssh writes it: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa. */
  readonly sshType: string;
  /** The private key file's bytes (PEM-armoured openssh-key-v1). Secret: wipe with wipeKeyPair. */
  readonly privateKey: Uint8Array;
  /** The `.pub` line, newline-terminated. */
  readonly publicKey: string;
  /** The public key blob (what known_hosts and fingerprints are made of). */
  readonly publicBlob: Buffer;
  /** `SHA256:<base64 without padding>`, as ssh-keygen -l prints it. */
  readonly fingerprint: string;
}

interface KeyParts {
  readonly sshType: string;
  readonly publicBlob: Buffer;
  /** The type-specific private fields of the private section (after the type string). */
  readonly privateFields: Buffer;
}

/** A coordinate of a public key's JWK, checked to be `length` bytes (a broken invariant throws). */
function publicJwkBytes(publicKey: KeyObject, field: 'x' | 'y', length: number): Buffer {
  const value = publicKey.export({ format: 'jwk' })[field];
  const bytes = typeof value === 'string' ? Buffer.from(value, 'base64url') : Buffer.alloc(0);
  if (bytes.length !== length) throw new Error(`public key JWK ${field} is not ${length} bytes`);
  return bytes;
}

function ed25519Parts(privateKey: KeyObject, publicKey: KeyObject): KeyParts {
  // PKCS#8 for Ed25519 ends in the 32-byte seed (RFC 8410). The public key comes from its JWK
  // (`x`, RFC 8037): public, so a string is fine, and OpenSSL's JWK export is about twice as fast
  // as SPKI DER. The private half never goes through a string.
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const pub = publicJwkBytes(publicKey, 'x', 32);
  const seedAndPublic = Buffer.concat([pkcs8.subarray(-32), pub]);
  pkcs8.fill(0);
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  // OpenSSH stores the public key, then the 64-byte "secret key" (seed || public key).
  const privateFields = concatAndWipe([sshString(pub), sshString(seedAndPublic)]);
  seedAndPublic.fill(0);
  return { sshType: 'ssh-ed25519', publicBlob, privateFields };
}

function ecdsaParts(privateKey: KeyObject, publicKey: KeyObject): KeyParts {
  // The uncompressed point 04 || x || y from the public JWK; SEC 1 holds the scalar d second.
  const point = Buffer.concat([
    Buffer.from([0x04]),
    publicJwkBytes(publicKey, 'x', 32),
    publicJwkBytes(publicKey, 'y', 32),
  ]);
  const sec1 = privateKey.export({ type: 'sec1', format: 'der' });
  const scalar = derSequence(sec1)[1];
  if (scalar === undefined || scalar.tag !== 0x04) throw new Error('SEC 1: no private scalar');
  const publicBlob = Buffer.concat([
    sshString('ecdsa-sha2-nistp256'),
    sshString('nistp256'),
    sshString(point),
  ]);
  const privateFields = concatAndWipe([sshString('nistp256'), sshString(point), mpint(scalar.content)]);
  sec1.fill(0);
  return { sshType: 'ecdsa-sha2-nistp256', publicBlob, privateFields };
}

function rsaParts(privateKey: KeyObject): KeyParts {
  const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'der' });
  // RSAPrivateKey ::= SEQUENCE { version, n, e, d, p, q, dP, dQ, qInv } (RFC 8017 A.1.2).
  const [, n, e, d, p, q, , , qInv] = derSequence(pkcs1).map((element) => element.content);
  if (
    n === undefined ||
    e === undefined ||
    d === undefined ||
    p === undefined ||
    q === undefined ||
    qInv === undefined
  )
    throw new Error('PKCS#1: missing RSA fields');
  const publicBlob = Buffer.concat([sshString('ssh-rsa'), mpint(e), mpint(n)]);
  // OpenSSH's order: n, e, d, iqmp, p, q (sshkey_private_serialize_opt).
  const privateFields = concatAndWipe([mpint(n), mpint(e), mpint(d), mpint(qInv), mpint(p), mpint(q)]);
  pkcs1.fill(0);
  return { sshType: 'ssh-rsa', publicBlob, privateFields };
}

function makeParts(algorithm: SshKeyAlgorithm): KeyParts {
  switch (algorithm) {
    case 'ed25519': {
      const pair = generateKeyPairSync('ed25519');
      return ed25519Parts(pair.privateKey, pair.publicKey);
    }
    case 'ecdsa': {
      const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      return ecdsaParts(pair.privateKey, pair.publicKey);
    }
    case 'rsa':
      return rsaParts(
        generateKeyPairSync('rsa', { modulusLength: RSA_BITS, publicExponent: 65537 }).privateKey,
      );
    default: {
      const unknown: never = algorithm;
      throw new Error(`unknown key algorithm ${String(unknown)}`);
    }
  }
}

/** The openssh-key-v1 body around one key's parts; wipes `parts.privateFields`. */
function opensshKeyBody(parts: KeyParts, comment: string): Buffer {
  const check = randomBytes(4);
  const section = [
    check,
    Buffer.from(check),
    sshString(parts.sshType),
    parts.privateFields,
    sshString(comment),
  ];
  const unpadded = section.reduce((total, part) => total + part.length, 0);
  const padLength = (BLOCK_SIZE - (unpadded % BLOCK_SIZE)) % BLOCK_SIZE;
  section.push(Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1)));
  const privateSection = concatAndWipe(section);
  const body = Buffer.concat([
    AUTH_MAGIC,
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(parts.publicBlob),
  ]);
  const wrapped = sshString(privateSection);
  privateSection.fill(0);
  return concatAndWipe([body, wrapped]);
}

/** Comments end up in a line of the `.pub` file: one line of printable text, never control bytes. */
function checkComment(comment: string): void {
  const control = [...comment].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
  if (control) throw new Error('key comment must not hold control characters');
}

export function generateSshKeyPair(algorithm: SshKeyAlgorithm, comment: string): SshKeyPair {
  checkComment(comment);
  const parts = makeParts(algorithm);
  const body = opensshKeyBody(parts, comment);
  const privateKey = armourOpensshKey(body);
  body.fill(0);
  const suffix = comment === '' ? '' : ` ${comment}`;
  return {
    algorithm,
    sshType: parts.sshType,
    privateKey,
    publicKey: `${parts.sshType} ${parts.publicBlob.toString('base64')}${suffix}\n`,
    publicBlob: parts.publicBlob,
    fingerprint: sha256Fingerprint(parts.publicBlob),
  };
}

export function wipeKeyPair(pair: SshKeyPair): void {
  pair.privateKey.fill(0);
}

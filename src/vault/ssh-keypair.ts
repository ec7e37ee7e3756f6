import { randomBytes } from 'node:crypto';
import type { Sodium } from './sodium.js';

/**
 * The admin's ed25519 SSH key pair, made in-process (no ssh-keygen child, nothing in argv) and
 * written in OpenSSH's own formats: "openssh-key-v1" (PROTOCOL.key) unencrypted, because the
 * daemon uses it unattended and the file is 0600 in a 0700 directory, and the one-line public key.
 */
const AUTH_MAGIC = 'openssh-key-v1\0';
const KEY_TYPE = 'ssh-ed25519';
const BLOCK_SIZE = 8;
const PEM_WIDTH = 70;

export interface SshKeyPair {
  /** The private key file's text (PEM-armoured openssh-key-v1); wipe with wipeSshKeyPair. */
  readonly privateKey: Uint8Array;
  readonly publicKey: string;
  readonly fingerprint: string;
}

function sshString(data: Uint8Array | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

export function publicKeyBlob(publicKey: Uint8Array): Buffer {
  return Buffer.concat([sshString(KEY_TYPE), sshString(publicKey)]);
}

const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const BEGIN = Buffer.from('-----BEGIN OPENSSH PRIVATE KEY-----\n', 'latin1');
const END = Buffer.from('-----END OPENSSH PRIVATE KEY-----\n', 'latin1');

/**
 * PEM armour written straight into bytes: Buffer.toString('base64') would leave the private key
 * in a JavaScript string that cannot be wiped.
 */
function armour(body: Uint8Array): Uint8Array {
  const encodedLength = Math.ceil(body.length / 3) * 4;
  const lineBreaks = Math.ceil(encodedLength / PEM_WIDTH);
  const out = new Uint8Array(BEGIN.length + encodedLength + lineBreaks + END.length);
  out.set(BEGIN, 0);
  let o = BEGIN.length;
  let column = 0;
  const put = (byte: number): void => {
    out[o++] = byte;
    if (++column === PEM_WIDTH) {
      out[o++] = 0x0a;
      column = 0;
    }
  };
  for (let i = 0; i < body.length; i += 3) {
    const a = body[i] ?? 0;
    const b = body[i + 1] ?? 0;
    const c = body[i + 2] ?? 0;
    put(ALPHABET[a >> 2] ?? 0);
    put(ALPHABET[((a & 3) << 4) | (b >> 4)] ?? 0);
    put(i + 1 < body.length ? (ALPHABET[((b & 15) << 2) | (c >> 6)] ?? 0) : 0x3d);
    put(i + 2 < body.length ? (ALPHABET[c & 63] ?? 0) : 0x3d);
  }
  if (column !== 0) out[o++] = 0x0a;
  out.set(END, o);
  return out.subarray(0, o + END.length);
}

export function generateSshKeyPair(sodium: Sodium, comment: string): SshKeyPair {
  const seed = new Uint8Array(randomBytes(32));
  const pair = sodium.crypto_sign_seed_keypair(seed);
  sodium.memzero(seed);
  const blob = publicKeyBlob(pair.publicKey);
  const check = randomBytes(4);
  const parts = [
    check,
    check,
    sshString(KEY_TYPE),
    sshString(pair.publicKey),
    sshString(pair.privateKey),
    sshString(comment),
  ];
  const unpadded = parts.reduce((n, part) => n + part.length, 0);
  const padLength = (BLOCK_SIZE - (unpadded % BLOCK_SIZE)) % BLOCK_SIZE;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));
  const privateSection = Buffer.concat([...parts, padding]);
  const body = Buffer.concat([
    Buffer.from(AUTH_MAGIC, 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(blob),
    sshString(privateSection),
  ]);
  const privateKey = armour(body);
  // Wipe every intermediate copy of the secret key we own.
  for (const part of parts) part.fill(0);
  privateSection.fill(0);
  body.fill(0);
  sodium.memzero(pair.privateKey);
  const digest = sodium.crypto_hash_sha256(blob);
  return {
    privateKey,
    publicKey: `${KEY_TYPE} ${blob.toString('base64')} ${comment}\n`,
    fingerprint: `SHA256:${Buffer.from(digest).toString('base64').replace(/=+$/, '')}`,
  };
}

export function wipeSshKeyPair(pair: SshKeyPair): void {
  pair.privateKey.fill(0);
}

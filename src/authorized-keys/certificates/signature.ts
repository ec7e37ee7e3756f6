import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { assertNever, codedError, err, ok, type Result } from '../../common/result.js';
import { CURVES } from '../keys/ec-point.js';
import type { KeyMaterial } from '../keys/key-body.js';
import type { PublicKeyError } from '../keys/public-key-errors.js';
import { SshReader } from '../keys/ssh-reader.js';

/**
 * Verifies an SSH signature blob (string algorithm, string signature[, sk flags and counter]) the
 * way sshkey_verify does for a certificate's CA signature, using node:crypto.
 */
export function verifySshSignature(
  key: KeyMaterial,
  signature: Uint8Array,
  data: Uint8Array,
): Result<void, PublicKeyError> {
  const reader = new SshReader(signature);
  const algorithm = reader.cstring();
  const body = reader.string();
  if (algorithm === null || body === null) return err(bad('signature blob is malformed'));
  try {
    switch (key.kind) {
      case 'ed25519': {
        if (algorithm !== 'ssh-ed25519' || reader.remaining !== 0)
          return err(bad('wrong Ed25519 signature type'));
        return check(body.length === 64 && verify(null, data, ed25519Key(key.publicKey), body));
      }
      case 'sk-ed25519': {
        if (algorithm !== 'sk-ssh-ed25519@openssh.com') return err(bad('wrong sk-Ed25519 signature type'));
        const signed = skSignedData(reader, key.application, data);
        if (signed === null || body.length !== 64) return err(bad('sk-Ed25519 signature is malformed'));
        return check(verify(null, signed, ed25519Key(key.publicKey), body));
      }
      case 'ecdsa':
      case 'sk-ecdsa': {
        const expected =
          key.kind === 'ecdsa' ? `ecdsa-sha2-${key.curve}` : 'sk-ecdsa-sha2-nistp256@openssh.com';
        if (algorithm !== expected)
          return err(unsupported(`signature type ${printable(algorithm)} for ${expected} key`));
        const signed = key.kind === 'ecdsa' ? data : skSignedData(reader, key.application, data);
        if (signed === null || reader.remaining !== 0) return err(bad('ECDSA signature is malformed'));
        const fixed = ecdsaFixedSignature(body, CURVES[key.curve].fieldBytes);
        if (fixed === null) return err(bad('ECDSA signature values are malformed'));
        const hash = key.curve === 'nistp256' ? 'sha256' : key.curve === 'nistp384' ? 'sha384' : 'sha512';
        return check(
          verify(hash, signed, { key: ecdsaKey(key.curve, key.point), dsaEncoding: 'ieee-p1363' }, fixed),
        );
      }
      case 'rsa': {
        const hash = RSA_HASHES.get(algorithm);
        if (hash === undefined) return err(unsupported(`RSA signature type ${printable(algorithm)}`));
        if (reader.remaining !== 0 || body.length > key.n.length)
          return err(bad('RSA signature is malformed'));
        const padded = new Uint8Array(key.n.length);
        padded.set(body, key.n.length - body.length);
        return check(verify(hash, data, rsaKey(key), padded));
      }
      default:
        return assertNever(key);
    }
  } catch {
    // node:crypto throws for keys or signatures it cannot load; for us that is just a bad signature.
    return err(bad('CA key or signature cannot be used'));
  }
}

const RSA_HASHES = new Map([
  ['ssh-rsa', 'sha1'],
  ['rsa-sha2-256', 'sha256'],
  ['rsa-sha2-512', 'sha512'],
]);

function check(valid: boolean): Result<void, PublicKeyError> {
  return valid ? ok(undefined) : err(bad('CA signature does not verify'));
}

function bad(message: string): PublicKeyError {
  return codedError('BAD_CERT_SIGNATURE', `certificate: ${message}`);
}

function unsupported(what: string): PublicKeyError {
  return codedError('UNSUPPORTED_SIGNATURE', `certificate: unsupported ${what}`);
}

function printable(text: string): string {
  return JSON.stringify(text.slice(0, 64));
}

/** FIDO signatures cover sha256(application) || flags || counter || sha256(message). */
function skSignedData(reader: SshReader, application: string, data: Uint8Array): Uint8Array | null {
  const flags = reader.u8();
  const counter = reader.u32();
  if (flags === null || counter === null || reader.remaining !== 0) return null;
  const tail = Buffer.alloc(5);
  tail.writeUInt8(flags, 0);
  tail.writeUInt32BE(counter, 1);
  return Buffer.concat([
    createHash('sha256').update(Buffer.from(application, 'latin1')).digest(),
    tail,
    createHash('sha256').update(data).digest(),
  ]);
}

function ecdsaFixedSignature(body: Uint8Array, size: number): Uint8Array | null {
  const inner = new SshReader(body);
  const r = mpintMagnitude(inner.string());
  const s = mpintMagnitude(inner.string());
  if (r === null || s === null || inner.remaining !== 0 || r.length > size || s.length > size) return null;
  const out = new Uint8Array(2 * size);
  out.set(r, size - r.length);
  out.set(s, 2 * size - s.length);
  return out;
}

function mpintMagnitude(raw: Uint8Array | null): Uint8Array | null {
  if (raw === null || raw.length === 0 || (raw[0]! & 0x80) !== 0) return null;
  let start = 0;
  while (start < raw.length && raw[start] === 0) start++;
  return raw.subarray(start);
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function ed25519Key(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(publicKey) }, format: 'jwk' });
}

function ecdsaKey(curve: keyof typeof CURVES, point: Uint8Array): KeyObject {
  const size = CURVES[curve].fieldBytes;
  const x = b64url(point.subarray(1, 1 + size));
  const y = b64url(point.subarray(1 + size));
  return createPublicKey({ key: { kty: 'EC', crv: CURVES[curve].jwkName, x, y }, format: 'jwk' });
}

function rsaKey(key: { e: Uint8Array; n: Uint8Array }): KeyObject {
  return createPublicKey({ key: { kty: 'RSA', n: b64url(key.n), e: b64url(key.e) }, format: 'jwk' });
}

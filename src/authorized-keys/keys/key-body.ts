import { assertNever, codedError, err, ok, type Result } from '../../common/result.js';
import { isValidPublicPoint } from './ec-point.js';
import type { KeyAlgorithm } from './key-types.js';
import type { PublicKeyError } from './public-key-errors.js';
import type { SshReader } from './ssh-reader.js';

/** sshd's SSH_RSA_MINIMUM_MODULUS_SIZE / SSH_RSA_MAXIMUM_MODULUS_SIZE (sshkey_check_rsa_length). */
export const RSA_MIN_BITS = 1024;
export const RSA_MAX_BITS = 16384;
/** sshbuf's SSHBUF_MAX_BIGNUM plus one byte for the sign: the longest mpint sshd reads. */
const MAX_MPINT_BYTES = RSA_MAX_BITS / 8 + 1;
const ED25519_PUBLIC_BYTES = 32;

/** The public material of a key, enough to verify a signature made by it. */
export type KeyMaterial =
  | { readonly kind: 'ed25519'; readonly publicKey: Uint8Array }
  | { readonly kind: 'sk-ed25519'; readonly publicKey: Uint8Array; readonly application: string }
  | {
      readonly kind: 'ecdsa';
      readonly curve: 'nistp256' | 'nistp384' | 'nistp521';
      readonly point: Uint8Array;
    }
  | {
      readonly kind: 'sk-ecdsa';
      readonly curve: 'nistp256';
      readonly point: Uint8Array;
      readonly application: string;
    }
  | { readonly kind: 'rsa'; readonly e: Uint8Array; readonly n: Uint8Array };

export interface ParsedBody {
  readonly material: KeyMaterial;
  readonly bits: number;
}

const malformed = (what: string): PublicKeyError => codedError('MALFORMED_KEY_BLOB', `key blob: ${what}`);

/**
 * Reads a canonical, non-negative mpint and returns its magnitude without the sign byte.
 * sshd tolerates redundant leading zero bytes; psm refuses them (deviation: canonical only).
 */
export function readMpint(reader: SshReader, what: string): Result<Uint8Array, PublicKeyError> {
  const raw = reader.string();
  if (raw === null) return err(malformed(`${what} is truncated`));
  if (raw.length > MAX_MPINT_BYTES)
    return err(codedError('BAD_KEY_LENGTH', `${what} is longer than ${MAX_MPINT_BYTES} bytes`));
  if (raw.length === 0) return ok(raw);
  const first = raw[0]!;
  if ((first & 0x80) !== 0) return err(codedError('NON_CANONICAL_MPINT', `${what} is negative`));
  if (first === 0) {
    if (raw.length === 1 || (raw[1]! & 0x80) === 0)
      return err(codedError('NON_CANONICAL_MPINT', `${what} has a redundant leading zero byte`));
    return ok(raw.subarray(1));
  }
  return ok(raw);
}

function bitLengthOf(magnitude: Uint8Array): number {
  if (magnitude.length === 0) return 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]!));
}

/** Parses the key fields that follow the type name (and, in a certificate, the nonce). */
export function parseKeyBody(reader: SshReader, algorithm: KeyAlgorithm): Result<ParsedBody, PublicKeyError> {
  switch (algorithm.kind) {
    case 'ed25519':
    case 'sk-ed25519': {
      const publicKey = reader.string();
      if (publicKey === null) return err(malformed('Ed25519 public key is truncated'));
      if (publicKey.length !== ED25519_PUBLIC_BYTES)
        return err(malformed(`Ed25519 public key is ${publicKey.length} bytes, not ${ED25519_PUBLIC_BYTES}`));
      if (algorithm.kind === 'ed25519') return ok({ material: { kind: 'ed25519', publicKey }, bits: 256 });
      const application = reader.cstring();
      if (application === null) return err(malformed('security-key application is missing or has a NUL'));
      return ok({ material: { kind: 'sk-ed25519', publicKey, application }, bits: 256 });
    }
    case 'ecdsa':
    case 'sk-ecdsa': {
      if (!reader.skipStringEqual(algorithm.curve)) {
        // Only to say why: a name equal to the expected one was taken above.
        const curve = reader.cstring();
        if (curve === null) return err(malformed('ECDSA curve name is truncated'));
        return err(
          codedError(
            'EC_CURVE_MISMATCH',
            `blob curve "${curve}" does not match the key type's ${algorithm.curve}`,
          ),
        );
      }
      const point = reader.string();
      if (point === null) return err(malformed('ECDSA public point is truncated'));
      if (!isValidPublicPoint(algorithm.curve, point))
        return err(
          codedError(
            'INVALID_EC_POINT',
            `ECDSA public point is not a valid uncompressed ${algorithm.curve} point`,
          ),
        );
      const bits = algorithm.curve === 'nistp256' ? 256 : algorithm.curve === 'nistp384' ? 384 : 521;
      if (algorithm.kind === 'ecdsa')
        return ok({ material: { kind: 'ecdsa', curve: algorithm.curve, point }, bits });
      const application = reader.cstring();
      if (application === null) return err(malformed('security-key application is missing or has a NUL'));
      return ok({ material: { kind: 'sk-ecdsa', curve: 'nistp256', point, application }, bits });
    }
    case 'rsa': {
      const e = readMpint(reader, 'RSA exponent');
      if (!e.ok) return e;
      const n = readMpint(reader, 'RSA modulus');
      if (!n.ok) return n;
      const bits = bitLengthOf(n.value);
      if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
        return err(
          codedError(
            'BAD_KEY_LENGTH',
            `RSA modulus is ${bits} bits; sshd accepts ${RSA_MIN_BITS}-${RSA_MAX_BITS}`,
          ),
        );
      return ok({ material: { kind: 'rsa', e: e.value, n: n.value }, bits });
    }
    default:
      return assertNever(algorithm);
  }
}

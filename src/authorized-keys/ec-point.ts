/**
 * The public-point checks sshd applies to ECDSA keys (sshbuf_get_ec + sshkey_ec_validate_public):
 * uncompressed encoding only, the point on the curve, x and y each longer than half the order's
 * bit length, and x, y < order - 1. Done in JavaScript so a key line costs
 * microseconds, not a node:crypto key import.
 */
import { curveEquationHolds, makeField, type Field } from './ec-field.js';

export type CurveName = 'nistp256' | 'nistp384' | 'nistp521';

export interface Curve {
  readonly p: bigint;
  readonly b: bigint;
  readonly n: bigint;
  readonly fieldBytes: number;
  readonly bits: number;
  readonly jwkName: 'P-256' | 'P-384' | 'P-521';
}

// Parameters from `openssl ecparam -param_enc explicit -text` (a = p - 3 on all three curves).
export const CURVES: Readonly<Record<CurveName, Curve>> = {
  nistp256: {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    fieldBytes: 32,
    bits: 256,
    jwkName: 'P-256',
  },
  nistp384: {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    fieldBytes: 48,
    bits: 384,
    jwkName: 'P-384',
  },
  nistp521: {
    p: (1n << 521n) - 1n,
    b: 0x51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    n: 0x1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    fieldBytes: 66,
    bits: 521,
    jwkName: 'P-521',
  },
};

export function isCurveName(name: string): name is CurveName {
  return name === 'nistp256' || name === 'nistp384' || name === 'nistp521';
}

export function bigintFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
}

/** Bit length of the big-endian number in bytes[start, end). */
function bitLengthOf(bytes: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b !== 0) return (end - i - 1) * 8 + (32 - Math.clz32(b));
  }
  return 0;
}

export const HALF_ORDER_BITS: Readonly<Record<CurveName, number>> = {
  nistp256: 128,
  nistp384: 192,
  nistp521: 260,
};

/** n - 1 as big-endian bytes of the field size, for the range check without BigInt. */
function orderLimitBytes(c: Curve): Uint8Array {
  return Buffer.from((c.n - 1n).toString(16).padStart(2 * c.fieldBytes, '0'), 'hex');
}

const ORDER_LIMIT: Readonly<Record<CurveName, Uint8Array>> = {
  nistp256: orderLimitBytes(CURVES.nistp256),
  nistp384: orderLimitBytes(CURVES.nistp384),
  nistp521: orderLimitBytes(CURVES.nistp521),
};

/** True when the big-endian number in bytes[start, start + limit.length) is below limit. */
function isBelow(bytes: Uint8Array, start: number, limit: Uint8Array): boolean {
  for (let i = 0; i < limit.length; i++) {
    const a = bytes[start + i]!;
    const b = limit[i]!;
    if (a !== b) return a < b;
  }
  return false;
}

/** The limb arithmetic for the curve equation (ec-field.ts), built from CURVES once. */
const FIELDS: Readonly<Record<CurveName, Field>> = {
  nistp256: makeField(CURVES.nistp256),
  nistp384: makeField(CURVES.nistp384),
  nistp521: makeField(CURVES.nistp521),
};

/**
 * y^2 = x^3 - 3x + b (mod p) for the big-endian coordinates in point[1, 1 + 2 * fieldBytes), any
 * values below 2^(8 * fieldBytes), without the range checks (the property test calls it alone).
 * Limbs on every curve and no BigInt at run time: reading two coordinates into BigInt cost
 * about 0.8 us, more than the whole limb check of a P-256 point.
 */
export function isOnCurve(curve: CurveName, point: Uint8Array): boolean {
  return curveEquationHolds(FIELDS[curve], point);
}

/**
 * True when `point` is a public point sshd would load for `curve`. The same checks as the plain
 * BigInt reference in ec-point-oracle.ts, which a property test compares this with.
 */
export function isValidPublicPoint(curve: CurveName, point: Uint8Array): boolean {
  const size = CURVES[curve].fieldBytes;
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) return false;
  // log2(x) > log2(order)/2 and the same for y (sshkey_ec_validate_public).
  const half = HALF_ORDER_BITS[curve];
  if (bitLengthOf(point, 1, 1 + size) <= half || bitLengthOf(point, 1 + size, 1 + 2 * size) <= half)
    return false;
  // x, y < n - 1 < p, so both are field elements for the curve equation.
  const limit = ORDER_LIMIT[curve];
  if (!isBelow(point, 1, limit) || !isBelow(point, 1 + size, limit)) return false;
  return curveEquationHolds(FIELDS[curve], point);
}

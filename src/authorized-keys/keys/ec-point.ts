/**
 * The public-point checks sshd applies to ECDSA keys (sshbuf_get_ec + sshkey_ec_validate_public):
 * uncompressed encoding only, the point on the curve, x and y each longer than half the order's
 * bit length, and x, y < order - 1.
 */
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

export const HALF_ORDER_BITS: Readonly<Record<CurveName, number>> = {
  nistp256: 128,
  nistp384: 192,
  nistp521: 260,
};

/**
 * y^2 = x^3 - 3x + b (mod p) for the big-endian coordinates in point[1, 1 + 2 * fieldBytes), any
 * values below 2^(8 * fieldBytes), without the range checks (the property test calls it alone).
 */
export function isOnCurve(curve: CurveName, point: Uint8Array): boolean {
  const c = CURVES[curve];
  const size = c.fieldBytes;
  const x = bigintFromBytes(point.subarray(1, 1 + size));
  const y = bigintFromBytes(point.subarray(1 + size, 1 + 2 * size));
  return (x * x * x - 3n * x + c.b - y * y) % c.p === 0n;
}

/**
 * True when `point` is a public point sshd would load for `curve` (sshbuf_get_ec +
 * sshkey_ec_validate_public), in plain BigInt: a point costs a few microseconds, nothing next to
 * the process that reads the file.
 */
export function isValidPublicPoint(curve: CurveName, point: Uint8Array): boolean {
  const c = CURVES[curve];
  const size = c.fieldBytes;
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) return false;
  const x = bigintFromBytes(point.subarray(1, 1 + size));
  const y = bigintFromBytes(point.subarray(1 + size));
  // log2(x) > log2(order)/2, i.e. the bit length is above half the order's.
  const half = 1n << BigInt(HALF_ORDER_BITS[curve]);
  if (x < half || y < half) return false;
  // x, y < n - 1 < p, so both are field elements for the curve equation.
  const limit = c.n - 1n;
  if (x >= limit || y >= limit) return false;
  return (x * x * x - 3n * x + c.b - y * y) % c.p === 0n;
}

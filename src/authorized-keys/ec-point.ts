/**
 * The public-point checks sshd applies to ECDSA keys (sshbuf_get_ec + sshkey_ec_validate_public):
 * uncompressed encoding only, the point on the curve, x and y each longer than half the order's
 * bit length, and x, y < order - 1. Done with BigInt so a key line costs microseconds, not a
 * node:crypto key import.
 */
export type CurveName = 'nistp256' | 'nistp384' | 'nistp521';

interface Curve {
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

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/** True when `point` is a public point sshd would load for `curve`. */
export function isValidPublicPoint(curve: CurveName, point: Uint8Array): boolean {
  const c = CURVES[curve];
  if (point.length !== 1 + 2 * c.fieldBytes || point[0] !== 0x04) return false;
  const x = bigintFromBytes(point.subarray(1, 1 + c.fieldBytes));
  const y = bigintFromBytes(point.subarray(1 + c.fieldBytes));
  if (x >= c.p || y >= c.p) return false;
  const rhs = (((x * x) % c.p) * x - 3n * x + c.b) % c.p;
  const lhs = (y * y) % c.p;
  if (lhs !== (rhs + c.p) % c.p) return false;
  const half = Math.floor(bitLength(c.n) / 2);
  if (bitLength(x) <= half || bitLength(y) <= half) return false;
  return x < c.n - 1n && y < c.n - 1n;
}

/**
 * The BigInt version of the ECDSA public-point check, kept as the reference the faster
 * isValidPublicPoint (ec-point.ts, ec-field.ts) is tested against. Written for clarity, not speed:
 * every check is a plain BigInt comparison, independent of the byte and limb code it judges.
 */
import { bigintFromBytes, CURVES, HALF_ORDER_BITS, type CurveName } from './ec-point.js';

/** True when `point` is a public point sshd would load for `curve` (sshkey_ec_validate_public). */
export function isValidPublicPointBigInt(curve: CurveName, point: Uint8Array): boolean {
  const c = CURVES[curve];
  const size = c.fieldBytes;
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) return false;
  const x = bigintFromBytes(point.subarray(1, 1 + size));
  const y = bigintFromBytes(point.subarray(1 + size));
  // log2(x) > log2(order)/2, i.e. the bit length is above half the order's.
  const half = 1n << BigInt(HALF_ORDER_BITS[curve]);
  if (x < half || y < half) return false;
  const limit = c.n - 1n;
  if (x >= limit || y >= limit) return false;
  return (x * x * x - 3n * x + c.b - y * y) % c.p === 0n;
}

/** x^3 - 3x + b - y^2 = 0 (mod p) for the big-endian coordinates in point[1, ...), any size. */
export function satisfiesCurveEquationBigInt(curve: CurveName, point: Uint8Array): boolean {
  const c = CURVES[curve];
  const size = c.fieldBytes;
  const x = bigintFromBytes(point.subarray(1, 1 + size));
  const y = bigintFromBytes(point.subarray(1 + size, 1 + 2 * size));
  return (((x * x * x - 3n * x + c.b - y * y) % c.p) + c.p) % c.p === 0n;
}

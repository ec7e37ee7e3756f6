/**
 * The ECDSA public-point check (ec-point.ts) against OpenSSL's (node:crypto's JWK import, which
 * refuses a point off the curve): the same verdict on the curve equation for valid points made by
 * node:crypto, on random bytes, on bytes drawn mostly from 0x00/0xff and their neighbours, on
 * coordinates next to p, the order n and 2^bits, and on valid points with bytes changed; and the
 * range checks against their definition in BigInt. Points on the curve whose x sits at those
 * edges (y found by a square root) are accepted, and one bit off in y is not.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CURVES,
  isOnCurve,
  isValidPublicPoint,
  type CurveName,
} from '../../src/authorized-keys/keys/ec-point.js';

const RUNS = 10_000;
const POOL = 64;

const CURVE_LIST: ReadonlyArray<readonly [CurveName, 'P-256' | 'P-384' | 'P-521']> = [
  ['nistp256', 'P-256'],
  ['nistp384', 'P-384'],
  ['nistp521', 'P-521'],
];

function validPoints(jwkCurve: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < POOL; i++) {
    const jwk = generateKeyPairSync('ec', { namedCurve: jwkCurve }).publicKey.export({ format: 'jwk' });
    out.push(
      Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]),
    );
  }
  return out;
}

function bytesOf(value: bigint, size: number): Uint8Array {
  const masked = value & ((1n << BigInt(8 * size)) - 1n);
  return Buffer.from(masked.toString(16).padStart(2 * size, '0'), 'hex');
}

/** 24-bit boundaries: edges where a limb implementation would carry (kept as extra edge cases). */
const LIMB_BITS = 24;

/**
 * Coordinates next to p and n, at 0 and all ones, just below and at 2^bits and 2^(bits - 1), and
 * at the limb boundaries 2^(24k) - 1, 2^(24k) and p - 2^(24k): every limb 0, full or p's own.
 */
function edgeCoordinates(curve: CurveName): bigint[] {
  const { p, n, fieldBytes, bits } = CURVES[curve];
  const all = (1n << BigInt(8 * fieldBytes)) - 1n;
  const top = 1n << BigInt(bits);
  const edges = [p - 1n, p, p + 1n, n - 2n, n - 1n, n, n + 1n, 0n, 1n, 3n, all, all - 1n];
  edges.push(top - 1n, top - 2n, top, top >> 1n, (top >> 1n) - 1n);
  for (let k = 1; LIMB_BITS * k < 8 * fieldBytes; k++) {
    const boundary = 1n << BigInt(LIMB_BITS * k);
    edges.push(boundary - 1n, boundary, p - boundary);
  }
  return edges.filter((v) => v >= 0n && v <= all);
}

function modPow(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  for (let b = base % m, e = exponent; e > 0n; e >>= 1n, b = (b * b) % m)
    if (e & 1n) result = (result * b) % m;
  return result;
}

/**
 * Points on the curve with x at each edge coordinate below p (where x^3 - 3x + b is a square):
 * y = rhs^((p + 1) / 4), as p = 3 mod 4 on all three curves. Each comes with y, p - y, and
 * y + p while that still fits the field size (a non-reduced y, on the curve mod p all the same).
 */
function edgePointsOnCurve(curve: CurveName): Array<{ x: bigint; y: bigint }> {
  const { p, b, fieldBytes } = CURVES[curve];
  const all = (1n << BigInt(8 * fieldBytes)) - 1n;
  const out: Array<{ x: bigint; y: bigint }> = [];
  for (const x of edgeCoordinates(curve)) {
    if (x >= p) continue;
    const rhs = (((x * x * x - 3n * x + b) % p) + p) % p;
    const y = modPow(rhs, (p + 1n) / 4n, p);
    if ((y * y) % p !== rhs) continue;
    for (const candidate of [y, p - y, y + p]) if (candidate <= all) out.push({ x, y: candidate });
  }
  return out;
}

const JWK_CURVE: Readonly<Record<CurveName, string>> = {
  nistp256: 'P-256',
  nistp384: 'P-384',
  nistp521: 'P-521',
};

function coordinate(point: Uint8Array, at: number, size: number): bigint {
  return BigInt(`0x${Buffer.from(point.subarray(at, at + size)).toString('hex') || '0'}`);
}

/** OpenSSL's verdict on y^2 = x^3 - 3x + b, for coordinates that are field elements (< p). */
function opensslOnCurve(curve: CurveName, point: Uint8Array): boolean {
  const size = CURVES[curve].fieldBytes;
  try {
    createPublicKey({
      key: {
        kty: 'EC',
        crv: JWK_CURVE[curve],
        x: Buffer.from(point.subarray(1, 1 + size)).toString('base64url'),
        y: Buffer.from(point.subarray(1 + size, 1 + 2 * size)).toString('base64url'),
      },
      format: 'jwk',
    });
    return true;
  } catch {
    return false;
  }
}

/** The whole check by its definition, the curve equation judged by OpenSSL. */
function referenceVerdict(curve: CurveName, point: Uint8Array): boolean {
  const c = CURVES[curve];
  const size = c.fieldBytes;
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) return false;
  const x = coordinate(point, 1, size);
  const y = coordinate(point, 1 + size, size);
  // log2(x) > log2(order)/2 (sshkey_ec_validate_public), as a bit length of the written number.
  if (x.toString(2).length <= c.bits >> 1 || y.toString(2).length <= c.bits >> 1) return false;
  if (x >= c.n - 1n || y >= c.n - 1n) return false;
  return opensslOnCurve(curve, point);
}

function pointOf(curve: CurveName, x: bigint, y: bigint): Uint8Array {
  const size = CURVES[curve].fieldBytes;
  return Buffer.concat([Buffer.from([4]), bytesOf(x, size), bytesOf(y, size)]);
}

function pointArbitrary(curve: CurveName, pool: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const size = CURVES[curve].fieldBytes;
  const valid = fc.constantFrom(...pool);
  const random = fc
    .uint8Array({ minLength: 2 * size, maxLength: 2 * size })
    .map((xy) => Buffer.concat([Buffer.from([4]), xy]));
  const edges = edgeCoordinates(curve);
  const edged = fc
    .tuple(valid, fc.constantFrom(...edges), fc.constantFrom(...edges), fc.integer({ min: 0, max: 2 }))
    .map(([point, a, b, which]) => {
      const out = Buffer.from(point);
      if (which !== 1) out.set(bytesOf(a, size), 1);
      if (which !== 0) out.set(bytesOf(b, size), 1 + size);
      return out;
    });
  // y -> p - y keeps the point on the curve (its negation) and moves y across the range limits.
  const negated = valid.map((point) => {
    const y = BigInt(`0x${Buffer.from(point.subarray(1 + size)).toString('hex')}`);
    const out = Buffer.from(point);
    out.set(bytesOf(CURVES[curve].p - y, size), 1 + size);
    return out;
  });
  const mutated = fc
    .tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean())
    .map(([point, at, mask, twice]) => {
      const out = Buffer.from(point);
      const first = at % out.length;
      out[first] = out[first]! ^ mask;
      const second = (at * 7 + 3) % out.length;
      if (twice) out[second] = out[second]! ^ mask;
      return out;
    });
  // Mostly 0x00 and 0xff and their neighbours: long runs of full or empty limbs, top bits set.
  const extremeByte = fc.oneof(
    fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff),
    fc.integer({ min: 0, max: 255 }),
  );
  const extreme = fc
    .array(extremeByte, { minLength: 2 * size, maxLength: 2 * size })
    .map((xy) => Buffer.from([4, ...xy]));
  const wrongLength = fc.uint8Array({ minLength: 0, maxLength: 2 * size + 3 });
  return fc.oneof(valid, random, edged, negated, mutated, extreme, wrongLength);
}

describe.each(CURVE_LIST)('ECDSA point check on %s', (curve, jwkCurve) => {
  const pool = validPoints(jwkCurve);
  const points = pointArbitrary(curve, pool);
  const size = CURVES[curve].fieldBytes;

  it('accepts every point node:crypto makes', () => {
    for (const point of pool) expect(isValidPublicPoint(curve, point)).toBe(true);
  });

  it('gives the same verdict as the check by its definition (curve equation by OpenSSL)', () => {
    fc.assert(
      fc.property(points, (point) => {
        expect(isValidPublicPoint(curve, point)).toBe(referenceVerdict(curve, point));
      }),
      { numRuns: RUNS },
    );
  });

  it('agrees with OpenSSL on every pair of edge coordinates below p', () => {
    const edges = edgeCoordinates(curve).filter((v) => v < CURVES[curve].p);
    for (const x of edges)
      for (const y of edges) {
        const point = pointOf(curve, x, y);
        expect(isOnCurve(curve, point), `x=${x.toString(16)} y=${y.toString(16)}`).toBe(
          opensslOnCurve(curve, point),
        );
        expect(isValidPublicPoint(curve, point)).toBe(referenceVerdict(curve, point));
      }
  });

  it('finds the points on the curve whose x sits at an edge', () => {
    const points = edgePointsOnCurve(curve);
    // About half of the x values have a y; the edges must not all be skipped.
    expect(points.length).toBeGreaterThan(10);
    for (const { x, y } of points) {
      const point = pointOf(curve, x, y);
      expect(isOnCurve(curve, point), `x=${x.toString(16)} y=${y.toString(16)}`).toBe(true);
      expect(isValidPublicPoint(curve, point)).toBe(referenceVerdict(curve, point));
      // One bit off in y moves the point off the curve.
      const bent = pointOf(curve, x, y ^ 1n);
      expect(isOnCurve(curve, bent)).toBe(false);
    }
  });

  it('agrees with OpenSSL on the curve equation, any field elements', () => {
    const p = CURVES[curve].p;
    fc.assert(
      fc.property(points, (point) => {
        if (point.length !== 1 + 2 * size) return;
        if (coordinate(point, 1, size) >= p || coordinate(point, 1 + size, size) >= p) return;
        expect(isOnCurve(curve, point)).toBe(opensslOnCurve(curve, point));
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * The ECDSA public-point check on bytes and 16-bit limbs (ec-point.ts, ec-field.ts) against the
 * plain BigInt reference (ec-point-oracle.ts): the same verdict on valid points made by
 * node:crypto, on random bytes, on coordinates next to p and the order n, and on valid points
 * with bytes changed. The limb arithmetic is also compared alone, on all three curves.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isOnCurve } from '../../src/authorized-keys/ec-field.js';
import {
  isValidPublicPointBigInt,
  satisfiesCurveEquationBigInt,
} from '../../src/authorized-keys/ec-point-oracle.js';
import { CURVES, isValidPublicPoint, type CurveName } from '../../src/authorized-keys/ec-point.js';

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

/** Points of the right length whose x or y (or both) sit next to p or n, or at 0 and all ones. */
function edgeCoordinates(curve: CurveName): bigint[] {
  const { p, n, fieldBytes } = CURVES[curve];
  const all = (1n << BigInt(8 * fieldBytes)) - 1n;
  return [p - 1n, p, p + 1n, n - 2n, n - 1n, n, n + 1n, 0n, 1n, 3n, all, all - 1n];
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
  const wrongLength = fc.uint8Array({ minLength: 0, maxLength: 2 * size + 3 });
  return fc.oneof(valid, random, edged, negated, mutated, wrongLength);
}

describe.each(CURVE_LIST)('ECDSA point check on %s', (curve, jwkCurve) => {
  const pool = validPoints(jwkCurve);
  const points = pointArbitrary(curve, pool);
  const size = CURVES[curve].fieldBytes;

  it('accepts every point node:crypto makes', () => {
    for (const point of pool) expect(isValidPublicPoint(curve, point)).toBe(true);
  });

  it('gives the same verdict as the BigInt reference', () => {
    fc.assert(
      fc.property(points, (point) => {
        expect(isValidPublicPoint(curve, point)).toBe(isValidPublicPointBigInt(curve, point));
      }),
      { numRuns: RUNS },
    );
  });

  it('limb arithmetic agrees with BigInt on the curve equation, any coordinates', () => {
    fc.assert(
      fc.property(points, (point) => {
        if (point.length !== 1 + 2 * size) return;
        expect(isOnCurve(curve, point)).toBe(satisfiesCurveEquationBigInt(curve, point));
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * The on-curve test y^2 = x^3 - 3x + b (mod p) for the three NIST curves without BigInt.
 *
 * Why: each BigInt operation costs about 100 ns however small the numbers, and the check needs a
 * dozen of them plus the conversion from bytes, which made it the largest single cost of parsing
 * an authorized_keys line. Here numbers are 16-bit limbs in Float64Arrays: a limb product is
 * below 2^32, so whole columns of products (and sums of a few columns) stay exact below 2^53 and
 * no carry is needed inside the multiplication loops.
 *
 * Reduction uses that each p is a sum of a few signed powers of two (Solinas / Mersenne primes):
 * 2^(16L) and 2^bits are congruent to short signed sums of limb-aligned powers of two, so a high
 * limb is folded into lower limbs with a handful of additions. The BigInt version in
 * ec-point-oracle.ts is the reference; a property test compares the two.
 */
import type { CurveName } from './ec-point.js';

/** Adds v * 2^(16 * limbs) (or v * 2^bits), as its congruent short sum, into cols from limb `at` up. */
type Fold = (cols: Float64Array, at: number, v: number) => void;

interface FieldSpec {
  /** Number of 16-bit limbs of a field element (the curve's fieldBytes / 2). */
  readonly limbs: number;
  /** Bits of p; the top limb holds bits - 16 * (limbs - 1) bits after normalising. */
  readonly bits: number;
  /**
   * 2^(16 * limbs) and 2^bits mod p as straight-line additions: written out per curve because a
   * loop over a table of terms measured three times slower in the fold.
   */
  readonly fold: Fold;
  readonly foldCarry: Fold;
  readonly p: bigint;
  readonly b: bigint;
}

// 2^256 = 2^224 - 2^192 - 2^96 + 1 (mod p256): limbs 14, 12, 6 and 0.
function foldP256(cols: Float64Array, at: number, v: number): void {
  cols[at + 14] = cols[at + 14]! + v;
  cols[at + 12] = cols[at + 12]! - v;
  cols[at + 6] = cols[at + 6]! - v;
  cols[at] = cols[at]! + v;
}

// 2^384 = 2^128 + 2^96 - 2^32 + 1 (mod p384): limbs 8, 6, 2 and 0.
function foldP384(cols: Float64Array, at: number, v: number): void {
  cols[at + 8] = cols[at + 8]! + v;
  cols[at + 6] = cols[at + 6]! + v;
  cols[at + 2] = cols[at + 2]! - v;
  cols[at] = cols[at]! + v;
}

const SPECS: Readonly<Record<CurveName, FieldSpec>> = {
  // p = 2^256 - 2^224 + 2^192 + 2^96 - 1, so 2^256 = 2^224 - 2^192 - 2^96 + 1 (mod p).
  nistp256: {
    limbs: 16,
    bits: 256,
    fold: foldP256,
    foldCarry: foldP256,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  // p = 2^384 - 2^128 - 2^96 + 2^32 - 1, so 2^384 = 2^128 + 2^96 - 2^32 + 1 (mod p).
  nistp384: {
    limbs: 24,
    bits: 384,
    fold: foldP384,
    foldCarry: foldP384,
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  // p = 2^521 - 1: 2^521 = 1 and 2^528 = 2^7 (mod p); 66 bytes are 33 limbs, the top one 9 bits.
  nistp521: {
    limbs: 33,
    bits: 521,
    fold: (cols, at, v) => {
      cols[at] = cols[at]! + 128 * v;
    },
    foldCarry: (cols, at, v) => {
      cols[at] = cols[at]! + v;
    },
    p: (1n << 521n) - 1n,
    b: 0x51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
};

/** Per-curve constants and scratch space, allocated once (the check is synchronous). */
interface Field {
  readonly spec: FieldSpec;
  readonly topBase: number;
  readonly pLimbs: Float64Array;
  readonly bLimbs: Float64Array;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly t: Float64Array;
  readonly cols: Float64Array;
}

const BASE = 65536;

function limbsOf(value: bigint, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Number((value >> BigInt(16 * i)) & 0xffffn);
  return out;
}

function makeField(spec: FieldSpec): Field {
  const l = spec.limbs;
  return {
    spec,
    topBase: 2 ** (spec.bits - 16 * (l - 1)),
    pLimbs: limbsOf(spec.p, l),
    bLimbs: limbsOf(spec.b, l),
    x: new Float64Array(l),
    y: new Float64Array(l),
    t: new Float64Array(l),
    cols: new Float64Array(2 * l),
  };
}

const FIELDS: Readonly<Record<CurveName, Field>> = {
  nistp256: makeField(SPECS.nistp256),
  nistp384: makeField(SPECS.nistp384),
  nistp521: makeField(SPECS.nistp521),
};

/** Big-endian bytes[start, start + 2 * out.length) into little-endian 16-bit limbs. */
function readLimbs(bytes: Uint8Array, start: number, out: Float64Array): void {
  const end = start + 2 * out.length;
  for (let i = 0; i < out.length; i++) out[i] = (bytes[end - 2 * i - 2]! << 8) | bytes[end - 2 * i - 1]!;
}

/**
 * cols = a * b as column sums, one column at a time (product scanning: each column is summed in
 * a local and written once, which measured about twice as fast as adding into cols row by row).
 * No carries: see the header for why the sums stay exact.
 */
function multiply(cols: Float64Array, a: Float64Array, b: Float64Array, l: number): void {
  for (let k = 0; k < 2 * l - 1; k++) {
    const first = k < l ? 0 : k - l + 1;
    const last = k < l ? k : l - 1;
    let sum = 0;
    for (let i = first; i <= last; i++) sum += a[i]! * b[k - i]!;
    cols[k] = sum;
  }
  cols[2 * l - 1] = 0;
}

/** cols += sign * a^2, using a_i * a_j = a_j * a_i to do about half the multiplications. */
function addSquare(cols: Float64Array, a: Float64Array, sign: number, l: number): void {
  for (let k = 0; k < 2 * l - 1; k++) {
    let sum = 0;
    for (let i = k < l ? 0 : k - l + 1, j = k - i; i < j; i++, j--) sum += a[i]! * a[j]!;
    sum *= 2;
    if ((k & 1) === 0) sum += a[k >> 1]! * a[k >> 1]!;
    cols[k] = cols[k]! + sign * sum;
  }
}

/**
 * Reduces the signed column sums cols[0, 2L) to a normalised number below 2^bits that is
 * congruent mod p, written to out. Columns are at most about 2^46 in size after folding.
 */
function reduce(f: Field, cols: Float64Array, out: Float64Array): void {
  const { fold, foldCarry, limbs: l } = f.spec;
  // Top down, so a fold landing on a still-high column is folded again in its turn.
  for (let k = 2 * l - 1; k >= l; k--) {
    const v = cols[k]!;
    if (v === 0) continue;
    cols[k] = 0;
    fold(cols, k - l, v);
  }
  // Normalise; fold the carry out of the top limb back in until none is left. Terminates within
  // a few rounds: each round's carry is far smaller than the last, then at most +-1.
  for (let round = 0; ; round++) {
    let carry = 0;
    for (let i = 0; i < l - 1; i++) {
      const v = cols[i]! + carry;
      carry = Math.floor(v / BASE);
      cols[i] = v - carry * BASE;
    }
    const top = cols[l - 1]! + carry;
    carry = Math.floor(top / f.topBase);
    cols[l - 1] = top - carry * f.topBase;
    if (carry === 0) break;
    if (round > 8) throw new Error('ec-field: reduction did not settle (bug)');
    foldCarry(cols, 0, carry);
  }
  for (let i = 0; i < l; i++) out[i] = cols[i]!;
}

function isZeroOrP(f: Field, v: Float64Array): boolean {
  let zero = true;
  let isP = true;
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== 0) zero = false;
    if (v[i] !== f.pLimbs[i]) isP = false;
  }
  return zero || isP;
}

/**
 * True when the coordinates in point[1, 1 + 2 * fieldBytes) satisfy the curve equation mod p.
 * The caller has checked the length and that x and y are below p.
 */
export function isOnCurve(curve: CurveName, point: Uint8Array): boolean {
  const f = FIELDS[curve];
  const { x, y, t, cols } = f;
  const l = f.spec.limbs;
  readLimbs(point, 1, x);
  readLimbs(point, 1 + 2 * l, y);
  cols.fill(0);
  addSquare(cols, x, 1, l);
  reduce(f, cols, t);
  t[0] = t[0]! - 3; // x^2 - 3, limb 0 may go negative; mulAdd and reduce take signed limbs.
  multiply(cols, t, x, l);
  addSquare(cols, y, -1, l);
  for (let i = 0; i < l; i++) cols[i] = cols[i]! + f.bLimbs[i]!;
  reduce(f, cols, t);
  // t is below 2^bits < 2p, so it is 0 mod p exactly when it is 0 or p.
  return isZeroOrP(f, t);
}

/**
 * The curve equation y^2 = x^3 - 3x + b (mod p) of the NIST curves without BigInt.
 *
 * Why: each BigInt operation costs 100-160 ns however small the numbers, and reading a coordinate
 * into a BigInt about 400 ns, which made the check the largest single cost of parsing an
 * authorized_keys line. Here numbers are 24-bit limbs in Float64Arrays (11, 16 and 22 limbs for
 * P-256, P-384 and P-521), about half the multiply-adds of 16-bit limbs. A column of a product
 * sums at most 22 limb products; with limbs below 1.25 * 2^24 in size (see reduceLoosely) that
 * stays below 22 * 1.25^2 * 2^48 < 2^52.8, exact in a double, so products need no carries.
 *
 * Reduction uses that these primes are Solinas / Mersenne primes: 2^(24L) mod p (L limbs) and
 * 2^bits mod p are sums of at most four signed powers of two, found from p when the module loads.
 * A column k >= L is folded into lower columns as that sum moved up k - L limbs. 24 does not
 * divide the exponents (2^264 = 2^232 - 2^200 - 2^104 + 2^8 mod p256), so a term lands on a limb
 * times 2^(e mod 24), up to 2^16; each column is therefore split into its low 24 bits and the
 * rest before it is folded, which keeps what is added below 2^45.
 *
 * On this kind of code the cost is loop steps and chains of dependent roundings more than
 * arithmetic, hence the 4x4 blocks written out, the P-256 products written out in full, and
 * carries taken in parallel except in the one exact pass at the end. The BigInt check in
 * ec-point-oracle.ts is the reference; a property test compares the two.
 */
import { addSquareP256, productP256 } from './ec-field-p256.js';
import type { Curve } from './ec-point.js';

const LIMB_BITS = 24;
const BASE = 2 ** LIMB_BITS;
const INV_BASE = 2 ** -LIMB_BITS;
/** Most terms of a fold: four for P-256 and P-384, one for P-521. */
const FOLD_TERMS = 4;
/**
 * Largest multipliers the bounds allow: a split column's parts (below 2^29) times 2^16, and the
 * first carry out of bit `bits` (below 2^37 for P-256) times 2^8, stay below 2^45.
 */
const MAX_WRAP_MULTIPLIER = 2 ** 16;
const MAX_TOP_MULTIPLIER = 2 ** 8;
/** Limb count of P-256, whose products are written out in full. */
const P256_LIMBS = 11;
/** Carry rounds after folding: two or three suffice, more means a bug. */
const MAX_NORMALISE_ROUNDS = 8;

/** v * (2^(24L) or 2^bits mod p) is added to cols[at + limb[i]] as v * multiplier[i]. */
interface Fold {
  /** How many of the FOLD_TERMS entries are used. */
  readonly terms: number;
  readonly limb: Int32Array;
  readonly multiplier: Float64Array;
  readonly highestLimb: number;
}

/** Per-curve constants and scratch space, allocated once (the check is synchronous). */
export interface Field {
  readonly fieldBytes: number;
  readonly limbs: number;
  /** 2^bits as a multiple of the top limb's weight: the top limb keeps the bits below that. */
  readonly topBase: number;
  /** Folds 2^(24 * limbs), the weight of the first column above the number. */
  readonly wrap: Fold;
  /** Folds 2^bits, the carry out of a normalised number. */
  readonly top: Fold;
  readonly pLimbs: Float64Array;
  readonly bLimbs: Float64Array;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly t: Float64Array;
  readonly cols: Float64Array;
  /** cols = a * b, over all columns (the padded length for the loops). */
  readonly product: (cols: Float64Array, a: Float64Array, b: Float64Array) => void;
  /** cols += sign * a^2. */
  readonly addSquare: (cols: Float64Array, a: Float64Array, sign: number) => void;
}

/** value as signed powers of two in non-adjacent form: the fewest terms, so p's Solinas shape. */
function signedPowers(value: bigint): Array<{ exponent: number; sign: number }> {
  const out: Array<{ exponent: number; sign: number }> = [];
  for (let exponent = 0; value !== 0n; exponent++, value >>= 1n) {
    if ((value & 1n) === 0n) continue;
    const sign = (value & 3n) === 1n ? 1 : -1;
    out.push({ exponent, sign });
    value -= BigInt(sign);
  }
  return out;
}

/** The fold of weight 2^e mod p; its terms must land below limb `belowLimb`. */
function makeFold(p: bigint, e: number, belowLimb: number, maxMultiplier: number): Fold {
  const terms = signedPowers((1n << BigInt(e)) % p);
  const limb = new Int32Array(FOLD_TERMS);
  const multiplier = new Float64Array(FOLD_TERMS);
  if (terms.length > FOLD_TERMS) throw new Error(`ec-field: 2^${e} mod p has ${terms.length} terms (bug)`);
  terms.forEach(({ exponent, sign }, i) => {
    limb[i] = Math.floor(exponent / LIMB_BITS);
    multiplier[i] = sign * 2 ** (exponent % LIMB_BITS);
    if (limb[i]! >= belowLimb || Math.abs(multiplier[i]!) > maxMultiplier)
      throw new Error(`ec-field: 2^${e} mod p does not fold within bounds (bug)`);
  });
  return { terms: terms.length, limb, multiplier, highestLimb: Math.max(...limb) };
}

function limbsOf(value: bigint, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Number((value >> BigInt(LIMB_BITS * i)) & BigInt(BASE - 1));
  return out;
}

export function makeField(curve: Curve): Field {
  const l = Math.ceil((8 * curve.fieldBytes) / LIMB_BITS);
  const w = 4 * Math.ceil(l / 4);
  const written = l === P256_LIMBS;
  return {
    fieldBytes: curve.fieldBytes,
    limbs: l,
    topBase: 2 ** (curve.bits - LIMB_BITS * (l - 1)),
    // A column k + 1 is folded while k is being split (foldHighColumns), so it must land below k.
    wrap: makeFold(curve.p, LIMB_BITS * l, l - 1, MAX_WRAP_MULTIPLIER),
    top: makeFold(curve.p, curve.bits, l, MAX_TOP_MULTIPLIER),
    pLimbs: limbsOf(curve.p, l),
    bLimbs: limbsOf(curve.b, l),
    x: new Float64Array(w),
    y: new Float64Array(w),
    t: new Float64Array(w),
    cols: new Float64Array(2 * w),
    product: written ? productP256 : (cols, a, b) => product(cols, a, b, w),
    addSquare: written ? addSquareP256 : (cols, a, sign) => addSquare(cols, a, sign, w),
  };
}

/** The big-endian number in bytes[start, start + size) as little-endian 24-bit limbs in out. */
function readLimbs(bytes: Uint8Array, start: number, size: number, out: Float64Array): void {
  let i = 0;
  let end = start + size;
  for (; end - 3 >= start; i++, end -= 3)
    out[i] = (bytes[end - 3]! << 16) | (bytes[end - 2]! << 8) | bytes[end - 1]!;
  // P-256: 32 bytes leave two for the top limb.
  let top = 0;
  for (let j = start; j < end; j++) top = (top << 8) | bytes[j]!;
  if (i < out.length) out[i] = top;
}

/**
 * cols[i + j + k] += scale * (the k-th column of a[i, i + 4) * b[j, j + 4)): one 4x4 block of a
 * product, written out with the eight limbs in locals. Loop steps, not arithmetic, are what cost
 * here: for P-521 a product of such blocks measured 0.30 us against 0.39 us for a loop step per
 * four multiply-adds and 0.95 us for one per multiply-add (product scanning).
 */
function addBlock(
  cols: Float64Array,
  a: Float64Array,
  i: number,
  b: Float64Array,
  j: number,
  scale: number,
): void {
  const a0 = a[i]!;
  const a1 = a[i + 1]!;
  const a2 = a[i + 2]!;
  const a3 = a[i + 3]!;
  const b0 = b[j]!;
  const b1 = b[j + 1]!;
  const b2 = b[j + 2]!;
  const b3 = b[j + 3]!;
  const at = i + j;
  cols[at] = cols[at]! + scale * (a0 * b0);
  cols[at + 1] = cols[at + 1]! + scale * (a0 * b1 + a1 * b0);
  cols[at + 2] = cols[at + 2]! + scale * (a0 * b2 + a1 * b1 + a2 * b0);
  cols[at + 3] = cols[at + 3]! + scale * (a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0);
  cols[at + 4] = cols[at + 4]! + scale * (a1 * b3 + a2 * b2 + a3 * b1);
  cols[at + 5] = cols[at + 5]! + scale * (a2 * b3 + a3 * b2);
  cols[at + 6] = cols[at + 6]! + scale * (a3 * b3);
}

/** cols = a * b over the padded length w (a multiple of four; limbs past the number are 0). */
function product(cols: Float64Array, a: Float64Array, b: Float64Array, w: number): void {
  for (let k = 0; k < 2 * w; k++) cols[k] = 0;
  for (let i = 0; i < w; i += 4) for (let j = 0; j < w; j += 4) addBlock(cols, a, i, b, j, 1);
}

/**
 * cols += sign * a^2: a block off the diagonal stands for itself and its mirror image, so it is
 * added twice and the mirror skipped, which saves about a third of the blocks.
 */
function addSquare(cols: Float64Array, a: Float64Array, sign: number, w: number): void {
  for (let i = 0; i < w; i += 4) {
    addBlock(cols, a, i, a, i, sign);
    for (let j = i + 4; j < w; j += 4) addBlock(cols, a, i, a, j, 2 * sign);
  }
}

/** cols[at + limb] += v * multiplier for each term (the carry fold, a few times per reduce). */
function addFold(cols: Float64Array, at: number, v: number, fold: Fold): void {
  for (let i = 0; i < fold.terms; i++)
    cols[at + fold.limb[i]!] = cols[at + fold.limb[i]!]! + v * fold.multiplier[i]!;
}

/**
 * Folds the columns k >= L of cols into lower ones, top down, so what lands on a still-high
 * column is folded in its turn. Each column is split first into its low 24 bits (folded as
 * weight 2^(24k)) and the rest (folded as weight 2^(24(k + 1)), landing below k: makeField
 * checks that), which keeps every folded part times a multiplier up to 2^16 far below 2^53.
 * The terms are read into locals once rather than from the typed arrays at every column, and
 * P-521's single term skips the other three (with the normalising pass's early stop below, the
 * P-521 check went from 2.4 to 1.5 us a point).
 */
function foldHighColumns(f: Field): void {
  const { cols, limbs: l, wrap } = f;
  const o0 = wrap.limb[0]!;
  const o1 = wrap.limb[1]!;
  const o2 = wrap.limb[2]!;
  const o3 = wrap.limb[3]!;
  const m0 = wrap.multiplier[0]!;
  const m1 = wrap.multiplier[1]!;
  const m2 = wrap.multiplier[2]!;
  const m3 = wrap.multiplier[3]!;
  const one = wrap.terms === 1;
  for (let k = 2 * l - 2; k >= l; k--) {
    const v = cols[k]!;
    const high = Math.floor(v * INV_BASE);
    const low = v - high * BASE;
    const at = k - l;
    cols[at + o0] = cols[at + o0]! + low * m0;
    cols[at + 1 + o0] = cols[at + 1 + o0]! + high * m0;
    if (one) continue;
    cols[at + o1] = cols[at + o1]! + low * m1;
    cols[at + 1 + o1] = cols[at + 1 + o1]! + high * m1;
    cols[at + o2] = cols[at + o2]! + low * m2;
    cols[at + 1 + o2] = cols[at + 1 + o2]! + high * m2;
    cols[at + o3] = cols[at + o3]! + low * m3;
    cols[at + 1 + o3] = cols[at + 1 + o3]! + high * m3;
  }
}

/**
 * One carry pass in which each limb's carry is taken from its own value before the carry from
 * below is added: no chain of dependent roundings runs through the loop, so the processor
 * overlaps them (a chained pass costs about 16 cycles a limb here). Limbs of up to 2^52.8 in
 * size end within 2^29 of [0, 2^24), and a second pass brings that to 2^22.
 */
function carryInParallel(f: Field): void {
  const { cols, limbs: l, top, topBase } = f;
  let carry = 0;
  for (let i = 0; i < l - 1; i++) {
    const v = cols[i]!;
    const out = Math.floor(v * INV_BASE);
    cols[i] = v - out * BASE + carry;
    carry = out;
  }
  const v = cols[l - 1]!;
  const out = Math.floor(v / topBase);
  cols[l - 1] = v - out * topBase + carry;
  addFold(cols, 0, out, top);
}

/**
 * Reduces the signed column sums cols[0, 2L - 1) (each below 2^52.8 in size) to L limbs of at
 * most 2^24 + 2^22 in size, congruent mod p: small enough for the next product (a column of 22
 * such products stays below 2^53) though not yet one exact number below 2^bits.
 */
function reduceLoosely(f: Field): void {
  foldHighColumns(f);
  carryInParallel(f);
  carryInParallel(f);
}

/**
 * Carries cols[0, L) exactly to the number below 2^bits they are congruent to, folding the carry
 * out of bit `bits` back in until none is left. Each round's carry is far smaller than the last,
 * then at most +-1 (a negative number wraps up through p). After the first round only the limbs
 * the carry fold touched are out of range, so a round stops once it is past them with no carry.
 */
function normalise(f: Field): void {
  const { cols, limbs: l, top, topBase } = f;
  for (let round = 0, dirty = l; ; round++, dirty = top.highestLimb + 1) {
    let carry = 0;
    let i = 0;
    for (; i < l - 1 && (carry !== 0 || i < dirty); i++) {
      const v = cols[i]! + carry;
      carry = Math.floor(v * INV_BASE);
      cols[i] = v - carry * BASE;
    }
    if (i < l - 1) return;
    const v = cols[l - 1]! + carry;
    carry = Math.floor(v / topBase);
    cols[l - 1] = v - carry * topBase;
    if (carry === 0) return;
    if (round >= MAX_NORMALISE_ROUNDS) throw new Error('ec-field: reduction did not settle (bug)');
    addFold(cols, 0, carry, top);
  }
}

function isZeroOrP(f: Field, v: Float64Array): boolean {
  let zero = true;
  let isP = true;
  for (let i = 0; i < f.limbs; i++) {
    if (v[i] !== 0) zero = false;
    if (v[i] !== f.pLimbs[i]) isP = false;
  }
  return zero || isP;
}

/**
 * True when the big-endian coordinates in point[1, 1 + 2 * fieldBytes) satisfy the curve
 * equation mod p. Any coordinates below 2^(8 * fieldBytes) give the exact answer; the range
 * checks are the caller's.
 */
export function curveEquationHolds(f: Field, point: Uint8Array): boolean {
  const { x, y, t, cols, limbs: l, fieldBytes } = f;
  readLimbs(point, 1, fieldBytes, x);
  readLimbs(point, 1 + fieldBytes, fieldBytes, y);
  for (let k = 0; k < cols.length; k++) cols[k] = 0;
  f.addSquare(cols, x, 1);
  reduceLoosely(f);
  for (let i = 0; i < l; i++) t[i] = cols[i]!;
  t[0] = t[0]! - 3; // x^2 - 3: limb 0 may go a little further negative, within the bounds.
  f.product(cols, t, x);
  f.addSquare(cols, y, -1);
  for (let i = 0; i < l; i++) cols[i] = cols[i]! + f.bLimbs[i]!;
  reduceLoosely(f);
  normalise(f);
  // cols[0, L) is now below 2^bits < 2p, so it is 0 mod p exactly when it is 0 or p.
  return isZeroOrP(f, cols);
}

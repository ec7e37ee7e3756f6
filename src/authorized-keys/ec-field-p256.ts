/**
 * The two P-256 products of ec-field.ts written out in full (11 limbs of 24 bits): kept apart
 * because they are long, mechanical and only worth their length for the commonest ECDSA curve.
 * The property test in test/property/ec-point.test.ts checks them against the BigInt reference.
 */

/**
 * P-256 (5 of every 8 ECDSA keys in the bench's mix) gets its products written out in full with
 * the limbs in locals: no loop and no loads inside the sums. A P-256 point takes 0.63-0.65 us
 * with these against 0.80-0.82 us with the 4x4 blocks. Column k is the sum of a_i * b_(k-i); a
 * square doubles the pairs i < j and adds a_(k/2)^2.
 */
export function productP256(cols: Float64Array, a: Float64Array, b: Float64Array): void {
  const a0 = a[0]!;
  const a1 = a[1]!;
  const a2 = a[2]!;
  const a3 = a[3]!;
  const a4 = a[4]!;
  const a5 = a[5]!;
  const a6 = a[6]!;
  const a7 = a[7]!;
  const a8 = a[8]!;
  const a9 = a[9]!;
  const a10 = a[10]!;
  const b0 = b[0]!;
  const b1 = b[1]!;
  const b2 = b[2]!;
  const b3 = b[3]!;
  const b4 = b[4]!;
  const b5 = b[5]!;
  const b6 = b[6]!;
  const b7 = b[7]!;
  const b8 = b[8]!;
  const b9 = b[9]!;
  const b10 = b[10]!;
  cols[0] = a0 * b0;
  cols[1] = a0 * b1 + a1 * b0;
  cols[2] = a0 * b2 + a1 * b1 + a2 * b0;
  cols[3] = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  cols[4] = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0;
  cols[5] = a0 * b5 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1 + a5 * b0;
  cols[6] = a0 * b6 + a1 * b5 + a2 * b4 + a3 * b3 + a4 * b2 + a5 * b1 + a6 * b0;
  cols[7] = a0 * b7 + a1 * b6 + a2 * b5 + a3 * b4 + a4 * b3 + a5 * b2 + a6 * b1 + a7 * b0;
  cols[8] = a0 * b8 + a1 * b7 + a2 * b6 + a3 * b5 + a4 * b4 + a5 * b3 + a6 * b2 + a7 * b1 + a8 * b0;
  cols[9] = a0 * b9 + a1 * b8 + a2 * b7 + a3 * b6 + a4 * b5 + a5 * b4 + a6 * b3 + a7 * b2 + a8 * b1 + a9 * b0;
  cols[10] =
    a0 * b10 +
    a1 * b9 +
    a2 * b8 +
    a3 * b7 +
    a4 * b6 +
    a5 * b5 +
    a6 * b4 +
    a7 * b3 +
    a8 * b2 +
    a9 * b1 +
    a10 * b0;
  cols[11] =
    a1 * b10 + a2 * b9 + a3 * b8 + a4 * b7 + a5 * b6 + a6 * b5 + a7 * b4 + a8 * b3 + a9 * b2 + a10 * b1;
  cols[12] = a2 * b10 + a3 * b9 + a4 * b8 + a5 * b7 + a6 * b6 + a7 * b5 + a8 * b4 + a9 * b3 + a10 * b2;
  cols[13] = a3 * b10 + a4 * b9 + a5 * b8 + a6 * b7 + a7 * b6 + a8 * b5 + a9 * b4 + a10 * b3;
  cols[14] = a4 * b10 + a5 * b9 + a6 * b8 + a7 * b7 + a8 * b6 + a9 * b5 + a10 * b4;
  cols[15] = a5 * b10 + a6 * b9 + a7 * b8 + a8 * b7 + a9 * b6 + a10 * b5;
  cols[16] = a6 * b10 + a7 * b9 + a8 * b8 + a9 * b7 + a10 * b6;
  cols[17] = a7 * b10 + a8 * b9 + a9 * b8 + a10 * b7;
  cols[18] = a8 * b10 + a9 * b9 + a10 * b8;
  cols[19] = a9 * b10 + a10 * b9;
  cols[20] = a10 * b10;
}

export function addSquareP256(cols: Float64Array, a: Float64Array, sign: number): void {
  const a0 = a[0]!;
  const a1 = a[1]!;
  const a2 = a[2]!;
  const a3 = a[3]!;
  const a4 = a[4]!;
  const a5 = a[5]!;
  const a6 = a[6]!;
  const a7 = a[7]!;
  const a8 = a[8]!;
  const a9 = a[9]!;
  const a10 = a[10]!;
  cols[0] = cols[0]! + sign * (a0 * a0);
  cols[1] = cols[1]! + sign * (2 * a0 * a1);
  cols[2] = cols[2]! + sign * (2 * a0 * a2 + a1 * a1);
  cols[3] = cols[3]! + sign * (2 * (a0 * a3 + a1 * a2));
  cols[4] = cols[4]! + sign * (2 * (a0 * a4 + a1 * a3) + a2 * a2);
  cols[5] = cols[5]! + sign * (2 * (a0 * a5 + a1 * a4 + a2 * a3));
  cols[6] = cols[6]! + sign * (2 * (a0 * a6 + a1 * a5 + a2 * a4) + a3 * a3);
  cols[7] = cols[7]! + sign * (2 * (a0 * a7 + a1 * a6 + a2 * a5 + a3 * a4));
  cols[8] = cols[8]! + sign * (2 * (a0 * a8 + a1 * a7 + a2 * a6 + a3 * a5) + a4 * a4);
  cols[9] = cols[9]! + sign * (2 * (a0 * a9 + a1 * a8 + a2 * a7 + a3 * a6 + a4 * a5));
  cols[10] = cols[10]! + sign * (2 * (a0 * a10 + a1 * a9 + a2 * a8 + a3 * a7 + a4 * a6) + a5 * a5);
  cols[11] = cols[11]! + sign * (2 * (a1 * a10 + a2 * a9 + a3 * a8 + a4 * a7 + a5 * a6));
  cols[12] = cols[12]! + sign * (2 * (a2 * a10 + a3 * a9 + a4 * a8 + a5 * a7) + a6 * a6);
  cols[13] = cols[13]! + sign * (2 * (a3 * a10 + a4 * a9 + a5 * a8 + a6 * a7));
  cols[14] = cols[14]! + sign * (2 * (a4 * a10 + a5 * a9 + a6 * a8) + a7 * a7);
  cols[15] = cols[15]! + sign * (2 * (a5 * a10 + a6 * a9 + a7 * a8));
  cols[16] = cols[16]! + sign * (2 * (a6 * a10 + a7 * a9) + a8 * a8);
  cols[17] = cols[17]! + sign * (2 * (a7 * a10 + a8 * a9));
  cols[18] = cols[18]! + sign * (2 * a8 * a10 + a9 * a9);
  cols[19] = cols[19]! + sign * (2 * a9 * a10);
  cols[20] = cols[20]! + sign * (a10 * a10);
}

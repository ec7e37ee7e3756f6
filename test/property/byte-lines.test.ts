/** ByteLines: the same lines whatever the chunks, and the same as splitting the whole input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteLines, byteLines, type RawLine } from '../../src/common/byte-lines.js';
import { decodeUtf8Strict } from '../../src/common/utf8.js';

/** The definition: split on 0x0a, no line after a final 0x0a, then limit, then strict UTF-8. */
function reference(data: Uint8Array, max: number): RawLine[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++)
    if (data[i] === 0x0a) {
      parts.push(data.subarray(start, i));
      start = i + 1;
    }
  if (start < data.length) parts.push(data.subarray(start));
  return parts.map((bytes) => {
    if (bytes.length > max) return { kind: 'too-long', bytes: bytes.length };
    return decodeUtf8Strict(bytes) ?? { kind: 'not-utf8', bytes: Uint8Array.from(bytes) };
  });
}

/** Bytes rich in line ends, multi-byte characters, stray continuation bytes and long runs. */
const input = fc
  .array(
    fc.oneof(
      fc.constant([0x0a]),
      fc.constant([0x61]),
      fc.constant([0xc3, 0xa9]),
      fc.constant([0xf0, 0x9f, 0x98, 0x80]),
      fc.constant([0x80]),
      fc.constant([0xe2, 0x82]),
      fc.integer({ min: 1, max: 40 }).map((n) => Array<number>(n).fill(0x62)),
    ),
    { maxLength: 60 },
  )
  .map((pieces) => Uint8Array.from(pieces.flat()));

function chunked(data: Uint8Array, cuts: number[], max: number): RawLine[] {
  const lines = new ByteLines(max);
  const out: RawLine[] = [];
  let start = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b)) {
    out.push(...lines.push(data.subarray(start, cut)));
    start = cut;
  }
  out.push(...lines.push(data.subarray(start)));
  out.push(...lines.end());
  return out;
}

describe('ByteLines', () => {
  it('gives the reference lines for any input, any chunking and any line limit', () => {
    fc.assert(
      fc.property(
        input,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 64 }),
        (data, cuts, max) => {
          const expected = reference(data, max);
          expect([...byteLines(data, max)]).toEqual(expected);
          expect(chunked(data, cuts, max)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('counts the bytes of an over-long line spread over many chunks without keeping them', () => {
    const lines = new ByteLines(10);
    const out: RawLine[] = [];
    for (let i = 0; i < 1000; i++) out.push(...lines.push(new Uint8Array(100).fill(0x61)));
    out.push(...lines.push(Uint8Array.from([0x61, 0x0a, 0x62])));
    out.push(...lines.end());
    expect(out).toEqual([{ kind: 'too-long', bytes: 100_001 }, 'b']);
  });
});

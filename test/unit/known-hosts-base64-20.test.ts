/** The in-place base64 of 20-byte salts and HMACs, held to decodeCanonicalBase64 and Buffer's encoder. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BASE64_20_CHARS,
  decodeBase64Of20,
  decodeCanonicalBase64,
  encodeBase64Of20,
} from '../../src/common/base64.js';

const bytes20 = fc.uint8Array({ minLength: 20, maxLength: 20 });
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

describe('base64 of 20 bytes', () => {
  it('encodes as Buffer does, at any offset', () => {
    fc.assert(
      fc.property(bytes20, fc.nat(8), (bytes, at) => {
        const out = new Uint8Array(at + BASE64_20_CHARS);
        expect(encodeBase64Of20(bytes, 0, out, at)).toBe(at + BASE64_20_CHARS);
        expect(Buffer.from(out.subarray(at)).toString('latin1')).toBe(Buffer.from(bytes).toString('base64'));
      }),
    );
  });

  it('decodes exactly what decodeCanonicalBase64 decodes to 20 bytes, and refuses the rest', () => {
    // Mostly one character changed in a valid encoding: stray bits, padding, other alphabets.
    const near = fc.tuple(bytes20, fc.nat(27), fc.constantFrom(...`${ALPHABET}=-_ .|é`)).map(([b, at, c]) => {
      const text = Buffer.from(b).toString('base64');
      return `${text.slice(0, at)}${c}${text.slice(at + 1)}`;
    });
    fc.assert(
      fc.property(fc.oneof(near, fc.string({ minLength: 28, maxLength: 28 })), (text) => {
        const expected = decodeCanonicalBase64(text);
        const out = new Uint8Array(20);
        const accepted = decodeBase64Of20(Buffer.from(text, 'latin1'), 0, out);
        const canonical = expected !== null && expected.length === 20 && !/[^\x20-\x7e]/.test(text);
        expect(accepted).toBe(canonical);
        if (accepted) expect(Buffer.from(out)).toEqual(Buffer.from(expected ?? []));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses text that ends before 28 characters', () => {
    expect(decodeBase64Of20(Buffer.from('AAAA'), 0, new Uint8Array(20))).toBe(false);
  });
});

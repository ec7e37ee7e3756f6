/**
 * The JavaScript HMAC-SHA1 that known_hosts lookups use, held to node:crypto's createHmac: any
 * message length (one to many blocks, across every padding boundary), keys read at an offset,
 * key after key on one instance, and matches() exactly when the MAC is equal; computeOnce() (a
 * message MACed once, read from a longer buffer) the same, also between compute() calls.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha1, HMAC_SHA1_BYTES } from '../../src/authorized-keys/known-hosts/hmac-sha1.js';

function reference(key: Uint8Array, message: Uint8Array): Buffer {
  return createHmac('sha1', key).update(message).digest();
}

describe('HmacSha1', () => {
  it('is createHmac for any message and key, key after key, keys at any offset', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 1100 }),
        fc.array(fc.tuple(fc.uint8Array({ minLength: 20, maxLength: 60 }), fc.nat()), { maxLength: 6 }),
        (message, keys) => {
          const hmac = new HmacSha1(message);
          for (const [buffer, at] of keys) {
            const offset = at % (buffer.length - HMAC_SHA1_BYTES + 1);
            const key = buffer.subarray(offset, offset + HMAC_SHA1_BYTES);
            const expected = reference(key, message);
            hmac.compute(buffer, offset);
            const out = new Uint8Array(HMAC_SHA1_BYTES + 3);
            hmac.writeMac(out, 3);
            expect(Buffer.from(out.subarray(3))).toEqual(expected);
            expect(hmac.macWord(0)).toBe(expected.readInt32BE(0));
            expect(hmac.matches(buffer, offset, out, 3)).toBe(true);
            for (let i = 0; i < HMAC_SHA1_BYTES; i += 7) {
              const wrong = Uint8Array.from(expected);
              wrong[i] = (wrong[i] as number) ^ 0x80;
              expect(hmac.matches(buffer, offset, wrong, 0)).toBe(false);
            }
          }
        },
      ),
    );
  });

  it('is right at every length around a block boundary (55, 56, 63, 64 bytes and more)', () => {
    const key = new Uint8Array(HMAC_SHA1_BYTES).map((_, i) => i * 13);
    for (let length = 0; length <= 200; length++) {
      const message = new Uint8Array(length).map((_, i) => (i * 7 + length) & 0xff);
      const hmac = new HmacSha1(message);
      hmac.compute(key);
      const out = new Uint8Array(HMAC_SHA1_BYTES);
      hmac.writeMac(out);
      expect(Buffer.from(out), `length ${length}`).toEqual(reference(key, message));
    }
  });

  it('computeOnce is createHmac at every length (one block and more) and leaves compute() right', () => {
    const key = new Uint8Array(HMAC_SHA1_BYTES + 5).map((_, i) => i * 29 + 1);
    const fixed = Buffer.from('fixed.example');
    const hmac = new HmacSha1(fixed);
    const out = new Uint8Array(HMAC_SHA1_BYTES);
    for (let length = 0; length <= 140; length++) {
      // The message is the start of a longer buffer: bytes past its length must not count.
      const buffer = new Uint8Array(length + 9).map((_, i) => (i * 11 + length) & 0xff);
      const message = buffer.subarray(0, length);
      hmac.computeOnce(buffer, length, key, 5);
      hmac.writeMac(out);
      expect(Buffer.from(out), `length ${length}`).toEqual(reference(key.subarray(5), message));
    }
    // compute() still MACs the instance's own message, after a long one and a short one.
    for (const length of [100, 10]) {
      hmac.computeOnce(new Uint8Array(length), length, key);
      hmac.compute(key, 5);
      hmac.writeMac(out);
      expect(Buffer.from(out), `after computeOnce of ${length} bytes`).toEqual(
        reference(key.subarray(5), fixed),
      );
    }
  });

  it('gives the RFC 2202 test case 1 shape: a 20-byte key of 0x0b over "Hi There"', () => {
    const hmac = new HmacSha1(Buffer.from('Hi There'));
    hmac.compute(new Uint8Array(HMAC_SHA1_BYTES).fill(0x0b));
    const out = new Uint8Array(HMAC_SHA1_BYTES);
    hmac.writeMac(out);
    expect(Buffer.from(out).toString('hex')).toBe('b617318655057264e28bc0b6fb378c8ef146be00');
  });
});

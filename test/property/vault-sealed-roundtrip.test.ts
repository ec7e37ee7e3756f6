import fc from 'fast-check';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import {
  KEY_ID_HEX_LENGTH,
  NONCE_BYTES,
  parseSealed,
  serializeSealed,
  TAG_BYTES,
} from '../../src/vault/sealed-value.js';
import { tomlString } from '../../src/vault/template.js';

/** Round trips of the two formats the vault writes: sealed values and TOML strings. */
const sealedValue = fc.record({
  keyId: fc.stringMatching(new RegExp(`^[0-9a-f]{${KEY_ID_HEX_LENGTH}}$`)),
  nonce: fc.uint8Array({ minLength: NONCE_BYTES, maxLength: NONCE_BYTES }),
  ciphertext: fc.uint8Array({ minLength: TAG_BYTES + 1, maxLength: 600 }),
});

describe('sealed value format', () => {
  it('parse(serialize(v)) == v, and serialize(parse(t)) == t', () => {
    fc.assert(
      fc.property(sealedValue, (value) => {
        const text = serializeSealed(value);
        const parsed = parseSealed(text, 'secrets.x');
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.value.keyId).toBe(value.keyId);
        expect(Buffer.from(parsed.value.nonce)).toEqual(Buffer.from(value.nonce));
        expect(Buffer.from(parsed.value.ciphertext)).toEqual(Buffer.from(value.ciphertext));
        expect(serializeSealed(parsed.value)).toBe(text);
        // One line of TOML, no escaping needed.
        expect(text).toMatch(/^[A-Za-z0-9+/=:-]+$/);
      }),
    );
  });

  it('accepts only canonical text: any other text either fails or re-serializes to itself', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (suffix) => {
        const text = `psm-sealed:v1:${suffix}`;
        const parsed = parseSealed(text, 'secrets.x');
        if (parsed.ok) expect(serializeSealed(parsed.value)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('TOML strings written by psm init', () => {
  it('tomlString(s) parses back to s for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (value) => {
        expect((parse(`v = ${tomlString(value)}`) as { v: string }).v).toBe(value);
      }),
    );
  });
});

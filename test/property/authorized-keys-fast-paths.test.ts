/**
 * The parser's fast paths against the plain definitions they replace, so a speed-up can never
 * change a verdict:
 * - the canonical base64 decoder (common/base64.ts) against "Node's lenient decoder, accepted only
 *   when re-encoding gives the text back" with the length checked first;
 * - the options field read once by the option parser against sshkey_advance_past_options
 *   (optionsFieldEnd) on every options field the parser accepts;
 * - isValidExpiryTime (no calendar arithmetic from 1971 on) against parseExpiryTime.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonicalBase64 } from '../../src/common/base64.js';
import { optionsFieldEnd } from '../../src/authorized-keys/lines/line.js';
import { isValidExpiryTime, parseExpiryTime } from '../../src/authorized-keys/lines/option-values.js';
import { parseOptionsAt } from '../../src/authorized-keys/lines/options.js';

const RUNS = 20_000;

/** The definition: Node decodes leniently, so canonical means "encodes back to the same text". */
function referenceDecode(text: string): Buffer | null {
  if (text.length === 0 || text.length % 4 !== 0) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

/** Characters a hostile or broken key field may hold: the alphabet's neighbours and worse. */
const ODD_CHARACTERS = [
  '=',
  '-',
  '_',
  ' ',
  '\t',
  '\n',
  '\0',
  '.',
  '*',
  'é',
  'Ł',
  '€',
  '\u0141',
  '😀',
  '\u00ff',
];

/** Canonical base64 of random bytes (both sides of the short/long switch), then maybe damaged. */
const base64Text = fc
  .tuple(
    fc.uint8Array({ minLength: 0, maxLength: 400, size: 'max' }),
    fc.nat(),
    fc.constantFrom('keep', 'replace', 'insert', 'drop-padding', 'flip-last', 'truncate', 'append'),
    fc.constantFrom(...ODD_CHARACTERS, 'A', 'Q', 'g', 'w', '+', '/'),
  )
  .map(([bytes, at, damage, odd]) => {
    const text = Buffer.from(bytes).toString('base64');
    const i = text.length === 0 ? 0 : at % text.length;
    switch (damage) {
      case 'keep':
        return text;
      case 'replace':
        return text.slice(0, i) + odd + text.slice(i + 1);
      case 'insert':
        return text.slice(0, i) + odd + text.slice(i);
      case 'drop-padding':
        return text.replace(/=+$/, '');
      case 'flip-last': {
        // Changes the last letter before the padding: often sets padding bits that must be zero.
        const end = text.replace(/=+$/, '').length - 1;
        return end < 0 ? text : text.slice(0, end) + odd + text.slice(end + 1);
      }
      case 'truncate':
        return text.slice(0, i);
      case 'append':
        return text + odd;
    }
  });

describe('decodeCanonicalBase64 (common/base64.ts)', () => {
  it('gives the same verdict and bytes as decode-then-re-encode', () => {
    fc.assert(
      fc.property(base64Text, (text) => {
        const reference = referenceDecode(text);
        const decoded = decodeCanonicalBase64(text);
        // The empty text is no bytes here; the formats that need data refuse it themselves.
        if (text.length === 0) expect(decoded).toEqual(new Uint8Array(0));
        else if (reference === null) expect(decoded).toBeNull();
        else expect(Buffer.from(decoded!)).toEqual(reference);
      }),
      { numRuns: RUNS },
    );
  });

  it('meets short and long texts, canonical and not, in those runs', () => {
    const samples = fc.sample(base64Text, { numRuns: 2_000, seed: 1 });
    const short = samples.filter((t) => t.length > 0 && t.length <= 192);
    const long = samples.filter((t) => t.length > 192);
    for (const group of [short, long]) {
      expect(group.some((t) => referenceDecode(t) !== null)).toBe(true);
      expect(group.some((t) => t.length % 4 === 0 && referenceDecode(t) === null)).toBe(true);
    }
  });

  it('refuses non-zero padding bits, stray padding and characters outside the alphabet', () => {
    for (const text of ['QQ==', 'QUE=', 'AAAA']) expect(decodeCanonicalBase64(text)).not.toBeNull();
    for (const text of ['QR==', 'QUF=', '====', 'A===', 'AA=A', 'A=AA', 'AB-_', 'AŁAA', 'AA\nA', 'QQ\u0000='])
      expect(decodeCanonicalBase64(text), JSON.stringify(text)).toBeNull();
  });
});

const OPTION_PIECE = fc.constantFrom(
  'restrict',
  'no-pty',
  'pty',
  'NO-Agent-Forwarding',
  'cert-authority',
  'command="a b"',
  'command="a \\" b"',
  'command="\\\\"',
  'command="x\\"',
  'from="10.0.0.0/8"',
  'permitopen="h:1"',
  'environment="A=b c"',
  'tunnel="1"',
  '"',
  '\\"',
  ' ',
  '\t',
  ',',
  '',
  'x',
);

describe('the options field read once', () => {
  const optionsLine = fc
    .tuple(fc.array(OPTION_PIECE, { maxLength: 8 }), fc.constantFrom(',', ''))
    .map(([pieces, glue]) => `${pieces.join(glue)} ssh-ed25519 AAAA`);

  it('ends where sshkey_advance_past_options ends whenever the option parser accepts it', () => {
    fc.assert(
      fc.property(optionsLine, (text) => {
        const parsed = parseOptionsAt(text, 0);
        if (parsed.ok) expect(parsed.value.end).toBe(optionsFieldEnd(text, 0));
      }),
      { numRuns: RUNS },
    );
  });

  it('meets accepted fields with quoted values and escapes in those runs', () => {
    const accepted = fc
      .sample(optionsLine, { numRuns: 2_000, seed: 1 })
      .filter((text) => parseOptionsAt(text, 0).ok);
    expect(accepted.some((text) => text.includes('\\"') && text.indexOf('"') < text.indexOf(' '))).toBe(true);
    expect(accepted.some((text) => /^[^ ]*"[^"]* /.test(text))).toBe(true);
  });
});

describe('isValidExpiryTime', () => {
  const digits = (length: number) => fc.stringMatching(new RegExp(`^[0-9]{${length}}$`));
  const expiry = fc.oneof(
    fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.constantFrom('', '0000', '2359', '235961', '240000'),
        fc.constantFrom('', 'Z', 'z', 'UTC', 'utc', 'X'),
      )
      .map(
        ([y, m, d, time, zone]) =>
          `${String(y).padStart(4, '0')}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}${time}${zone}`,
      ),
    fc.constantFrom('19700101', '19700101Z', '19691231', '19700102', '19710101', '1971010100', ' 1971 101'),
    digits(8),
    fc.string({ maxLength: 16 }),
  );

  it('agrees with parseExpiryTime on every input', () => {
    fc.assert(
      fc.property(expiry, (text) => {
        expect(isValidExpiryTime(text)).toBe(parseExpiryTime(text) !== null);
      }),
      { numRuns: RUNS },
    );
  });
});

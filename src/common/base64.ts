/**
 * Strict, canonical, padded base64 (RFC 4648 §4), the one decoder every psm format uses: the
 * text is accepted only when it is exactly what the bytes encode to, so every byte string has one
 * accepted spelling (no whitespace, no missing or extra padding, no stray padding bits, nothing
 * outside the alphabet). Node's decoder alone is lenient (it skips characters it does not know),
 * hence the re-encoding. Callers add their own length limits; the empty text gives no bytes.
 */
export function decodeCanonicalBase64(text: string): Uint8Array | null {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return null;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * The same canonical base64 for exactly 20 bytes (a known_hosts hashed host's salt or HMAC: 28
 * characters ending in one `=`), read and written in place in a file's bytes. A lookup decodes
 * two of these per hashed line and hashing writes two per name; doing it without a Buffer and a
 * string per field keeps the per-line work near nothing. It accepts exactly what
 * decodeCanonicalBase64 accepts for 20 bytes (test/unit/known-hosts-base64-20.test.ts compares
 * them): the standard alphabet, the padding, and zero unused bits.
 */
/** 20 bytes take 27 characters of 6 bits (162 bits, the last 2 zero) and one `=`. */
export const BASE64_20_CHARS = 28;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const EQUALS = 0x3d;
/** Character code -> 6-bit value, or -1 for anything outside the alphabet. */
const VALUE = new Int8Array(256).fill(-1);
const CHAR = new Uint8Array(64);
for (let i = 0; i < 64; i++) {
  VALUE[ALPHABET.charCodeAt(i)] = i;
  CHAR[i] = ALPHABET.charCodeAt(i);
}

/**
 * Decodes the 28 characters at text[at..] into out[0..19]; false (out then unspecified) unless
 * they are the canonical base64 of 20 bytes.
 */
export function decodeBase64Of20(text: Uint8Array, at: number, out: Uint8Array): boolean {
  if (at + BASE64_20_CHARS > text.length || text[at + 27] !== EQUALS) return false;
  let bad = 0;
  let o = 0;
  for (let i = at; i < at + 24; i += 4) {
    const a = VALUE[text[i] as number] as number;
    const b = VALUE[text[i + 1] as number] as number;
    const c = VALUE[text[i + 2] as number] as number;
    const d = VALUE[text[i + 3] as number] as number;
    bad |= a | b | c | d;
    out[o++] = (a << 2) | (b >> 4);
    out[o++] = ((b & 15) << 4) | (c >> 2);
    out[o++] = ((c & 3) << 6) | d;
  }
  const a = VALUE[text[at + 24] as number] as number;
  const b = VALUE[text[at + 25] as number] as number;
  const c = VALUE[text[at + 26] as number] as number;
  bad |= a | b | c;
  out[18] = (a << 2) | (b >> 4);
  out[19] = ((b & 15) << 4) | (c >> 2);
  // -1 anywhere sets the sign bit; bits of the last character past the 160th must be zero.
  return bad >= 0 && (c & 3) === 0;
}

/** Writes the base64 of bytes[at..at+19] (28 characters) at out[outAt..]; returns the end. */
export function encodeBase64Of20(bytes: Uint8Array, at: number, out: Uint8Array, outAt: number): number {
  let o = outAt;
  for (let i = at; i < at + 18; i += 3) {
    const x = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out[o++] = CHAR[x >> 18] as number;
    out[o++] = CHAR[(x >> 12) & 63] as number;
    out[o++] = CHAR[(x >> 6) & 63] as number;
    out[o++] = CHAR[x & 63] as number;
  }
  const x = ((bytes[at + 18] as number) << 8) | (bytes[at + 19] as number);
  out[o++] = CHAR[x >> 10] as number;
  out[o++] = CHAR[(x >> 4) & 63] as number;
  out[o++] = CHAR[(x << 2) & 63] as number;
  out[o++] = EQUALS;
  return o;
}

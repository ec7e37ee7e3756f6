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

/**
 * Strict UTF-8, the one decoder every psm format uses: any invalid sequence refuses the whole
 * input (null, never U+FFFD), and a leading byte-order mark is kept as text, so the format's own
 * parser sees it and refuses or reports it instead of it vanishing silently.
 */
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8Strict(bytes: Uint8Array): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}

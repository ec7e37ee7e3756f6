/**
 * Strict UTF-8, the one decoder every psm format uses: any invalid sequence refuses the whole
 * input (null, never U+FFFD). By default a leading byte-order mark is kept as text, so the
 * format's own parser sees it and refuses or reports it instead of it vanishing silently; the
 * formats that have always read a leading one as nothing (`{ bom: 'drop' }`: virtual.conf, policy
 * YAML, .pub files, the audit log) say so where they decode.
 */
const keepBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const dropBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export interface Utf8Options {
  /** A leading U+FEFF: kept as text (the default), or dropped. */
  readonly bom?: 'keep' | 'drop';
}

export function decodeUtf8Strict(bytes: Uint8Array, options: Utf8Options = {}): string | null {
  try {
    return (options.bom === 'drop' ? dropBom : keepBom).decode(bytes);
  } catch {
    return null;
  }
}

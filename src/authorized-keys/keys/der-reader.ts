/**
 * Just enough DER to take apart the keys node:crypto itself exports (PKCS#1 RSA, SEC 1 EC).
 * The input is trusted (our own process made it), so a malformed encoding is a bug and throws.
 * Returned views alias the input, so wiping the input wipes them too.
 */
export interface DerElement {
  readonly tag: number;
  readonly content: Buffer;
}

/** Reads the elements in a run of DER TLVs. */
export function derElements(data: Buffer): DerElement[] {
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < data.length) {
    const tag = data[offset] ?? 0;
    let length = data[offset + 1] ?? 0;
    offset += 2;
    if (length & 0x80) {
      const octets = length & 0x7f;
      if (octets === 0 || octets > 4) throw new Error('DER: unsupported length form');
      length = 0;
      for (let i = 0; i < octets; i += 1) length = length * 256 + (data[offset + i] ?? 0);
      offset += octets;
    }
    if (offset + length > data.length) throw new Error('DER: element runs past its container');
    out.push({ tag, content: data.subarray(offset, offset + length) });
    offset += length;
  }
  return out;
}

/** The elements inside the single outer SEQUENCE of `data`. */
export function derSequence(data: Buffer): DerElement[] {
  const [outer] = derElements(data);
  if (outer === undefined || outer.tag !== 0x30) throw new Error('DER: expected a SEQUENCE');
  return derElements(outer.content);
}

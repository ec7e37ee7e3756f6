/**
 * The SSH wire encodings (RFC 4251 section 5) psm writes into key blobs and key files. Every
 * helper returns a fresh Buffer the caller owns, so a caller holding secrets can wipe each part.
 */
export function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

export function sshString(data: Uint8Array | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt32BE(bytes.length);
  out.set(bytes, 4);
  return out;
}

/**
 * An mpint from an unsigned big-endian magnitude: leading zero bytes dropped, one zero byte put
 * back when the top bit is set (the value is positive). A DER INTEGER's content is already in
 * this form, so DER input passes through unchanged.
 */
export function mpint(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start += 1;
  const digits = magnitude.subarray(start);
  const pad = digits.length > 0 && ((digits[0] ?? 0) & 0x80) !== 0 ? 1 : 0;
  const out = Buffer.alloc(4 + pad + digits.length);
  out.writeUInt32BE(pad + digits.length);
  out.set(digits, 4 + pad);
  return out;
}

/** Concatenates parts and wipes them: for sections that hold secret material. */
export function concatAndWipe(parts: Buffer[]): Buffer {
  const out = Buffer.concat(parts);
  for (const part of parts) part.fill(0);
  return out;
}

/**
 * A bounds-checked reader for the SSH wire encoding (RFC 4251 §5) used inside key blobs and
 * certificates. Every getter returns null instead of reading past the end, so callers turn a
 * short or lying length field into a coded error without any exception.
 */
export class SshReader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  u8(): number | null {
    if (this.remaining < 1) return null;
    return this.bytes[this.offset++] ?? null;
  }

  u32(): number | null {
    if (this.remaining < 4) return null;
    const b = this.bytes;
    const o = this.offset;
    this.offset += 4;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  u64(): bigint | null {
    const high = this.u32();
    const low = this.u32();
    if (high === null || low === null) return null;
    return (BigInt(high) << 32n) | BigInt(low);
  }

  /** An SSH `string`: uint32 length then that many bytes (a view, not a copy). */
  string(): Uint8Array | null {
    const length = this.u32();
    if (length === null || length > this.remaining) return null;
    const value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /**
   * True, and past it, when the next `string` is exactly `expected` (compared as latin1 bytes);
   * otherwise false with the position unchanged, so the caller can read it again to say why.
   * Spares the view and the decoded string that string()/cstring() make for the common case.
   */
  skipStringEqual(expected: string): boolean {
    const b = this.bytes;
    const o = this.offset;
    if (this.remaining < 4 + expected.length) return false;
    const length = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    if (length !== expected.length) return false;
    for (let i = 0; i < length; i++) if (b[o + 4 + i] !== expected.charCodeAt(i)) return false;
    this.offset = o + 4 + length;
    return true;
  }

  /** A `string` that sshbuf_get_cstring accepts: no NUL byte inside. Decoded as latin1 (bytes kept). */
  cstring(): string | null {
    const value = this.string();
    if (value === null || value.includes(0)) return null;
    return latin1(value);
  }
}

export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

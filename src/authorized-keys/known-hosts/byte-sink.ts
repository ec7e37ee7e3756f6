/**
 * A file's new bytes, written line by line into one buffer that doubles when full, so hashing
 * 100k lines makes no string or Buffer per line and the result is written with one call.
 */
export class ByteSink {
  #buffer: Buffer;
  /** Bytes written so far; a caller that wrote into reserve()'s buffer sets it past them. */
  length = 0;

  constructor(capacity = 64 * 1024) {
    this.#buffer = Buffer.allocUnsafe(capacity);
  }

  /** The buffer, with room for `more` bytes at `length`. */
  reserve(more: number): Buffer {
    const needed = this.length + more;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, this.length);
      this.#buffer = grown;
    }
    return this.#buffer;
  }

  /** source[start..end) and a `\n`. */
  line(source: Uint8Array, start: number, end: number): void {
    const out = this.reserve(end - start + 1);
    out.set(source.subarray(start, end), this.length);
    this.length += end - start;
    out[this.length++] = 0x0a;
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.#buffer.buffer, this.#buffer.byteOffset, this.length);
  }
}

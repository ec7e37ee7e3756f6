import { decodeUtf8Strict } from './utf8.js';

/**
 * Splitting a file into lines as its bytes arrive, for the line formats (authorized_keys,
 * known_hosts): lines end at `\n` only (a final one does not start another line), each line is
 * decoded as strict UTF-8 on its own, so one bad byte spoils only its own line, and a line
 * longer than the format's limit is counted, not kept, so a hostile file costs bounded memory
 * whatever its size.
 */
export type RawLine =
  /** The line's text, without its `\n`. */
  | string
  /** The line has more than `maxLineBytes` bytes (`bytes` of them, its `\n` not counted). */
  | { readonly kind: 'too-long'; readonly bytes: number }
  /** The line is not valid UTF-8; `bytes` are its bytes (at most `maxLineBytes`). */
  | { readonly kind: 'not-utf8'; readonly bytes: Uint8Array };

export class ByteLines {
  /** The start of a line that the chunks so far have not finished (a copy), or null. */
  #pending: Uint8Array | null = null;
  /** Bytes of the unfinished line so far once it is too long (then nothing of it is kept). */
  #overLength = 0;

  constructor(readonly maxLineBytes: number) {}

  /** The lines that `chunk` completes. */
  *push(chunk: Uint8Array): Generator<RawLine, void, undefined> {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(0x0a, start);
      if (end === -1) break;
      yield this.#finish(chunk.subarray(start, end));
      start = end + 1;
    }
    this.#hold(chunk.subarray(start));
  }

  /** The last line, when the input does not end with `\n`. */
  *end(): Generator<RawLine, void, undefined> {
    if (this.#pending !== null || this.#overLength > 0) yield this.#finish(new Uint8Array(0));
  }

  #hold(rest: Uint8Array): void {
    if (rest.length === 0) return;
    if (this.#overLength > 0) {
      this.#overLength += rest.length;
      return;
    }
    const held = this.#pending === null ? 0 : this.#pending.length;
    if (held + rest.length > this.maxLineBytes) {
      this.#overLength = held + rest.length;
      this.#pending = null;
      return;
    }
    const pending = new Uint8Array(held + rest.length);
    if (this.#pending !== null) pending.set(this.#pending);
    pending.set(rest, held);
    this.#pending = pending;
  }

  #finish(tail: Uint8Array): RawLine {
    if (this.#overLength > 0) {
      const bytes = this.#overLength + tail.length;
      this.#overLength = 0;
      return { kind: 'too-long', bytes };
    }
    let bytes = tail;
    if (this.#pending !== null) {
      bytes = new Uint8Array(this.#pending.length + tail.length);
      bytes.set(this.#pending);
      bytes.set(tail, this.#pending.length);
      this.#pending = null;
    }
    if (bytes.length > this.maxLineBytes) return { kind: 'too-long', bytes: bytes.length };
    const text = decodeUtf8Strict(bytes);
    return text ?? { kind: 'not-utf8', bytes: bytes.slice() };
  }
}

/** The lines of a whole input held in memory. */
export function* byteLines(data: Uint8Array, maxLineBytes: number): Generator<RawLine, void, undefined> {
  const lines = new ByteLines(maxLineBytes);
  yield* lines.push(data);
  yield* lines.end();
}

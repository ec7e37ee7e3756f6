/**
 * A long report (one output line per input line, `psm keys inspect`) written in chunks of bytes
 * instead of one write per line.
 */
import type { CliIo } from './output.js';

/** Output is written in chunks of this many bytes. */
const OUTPUT_CHUNK_BYTES = 1 << 16;
/**
 * How many bytes may wait in the stream's queue before psm stops to let the reader catch up: a
 * few chunks, so psm goes on parsing while a pipe's reader takes the chunks before, instead of
 * idling until each one is read.
 */
const MAX_QUEUED_BYTES = 4 * OUTPUT_CHUNK_BYTES;
/** UTF-8 takes at most three bytes per UTF-16 code unit (a surrogate pair: four for two). */
const MAX_UTF8_PER_UNIT = 3;

/**
 * The text goes into the chunk as UTF-8 at once, so a chunk being filled or waiting in a pipe's
 * queue is bytes outside the JavaScript heap: a buffered string would outlive young collections
 * and make the heap grow with the length of the report.
 */
export class ChunkedWriter {
  private chunk: Buffer = Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
  private used = 0;
  private closed = false;
  /** Chunks handed to the stream that it may still hold, and chunks it is done with. */
  private lent: Buffer[] = [];
  private readonly spare: Buffer[] = [];
  /**
   * Whether chunks are filled again once the stream is done with them. A chunk that lives
   * through two young collections is promoted, and a promoted chunk's 64 KiB stay allocated
   * until a full collection, which a small heap seldom needs: a new chunk for every write made a
   * --json report of a million lines peak 30 MiB higher. A stream over a file descriptor (pipe,
   * file, terminal) whose queue is empty right after a write has handed every byte to the
   * kernel (write callbacks would say so too, but they wait for the event loop, which a
   * parse that never waits does not reach). Any other stream (a PassThrough in tests) may keep
   * the chunk it was given, so it always gets a new one.
   */
  private readonly recycles: boolean;
  constructor(private readonly io: CliIo) {
    this.recycles = typeof (io.stdout as { fd?: unknown }).fd === 'number';
    // A reader that goes away (`psm keys inspect --json big | head`) ends the output, quietly.
    io.stdout.on('error', () => {
      this.closed = true;
    });
  }

  /** `text` and a line feed. */
  line(text: string): void {
    if (this.closed) return;
    // The bound on the bytes saves measuring every line's UTF-8 length before copying it.
    if (this.used + text.length * MAX_UTF8_PER_UNIT + 1 > this.chunk.length) {
      const bytes = Buffer.byteLength(text, 'utf8') + 1;
      if (this.used + bytes > this.chunk.length) this.write();
      if (bytes > this.chunk.length) {
        this.io.stdout.write(`${text}\n`);
        return;
      }
    }
    this.used += this.chunk.write(text, this.used, 'utf8');
    this.chunk[this.used++] = 0x0a;
  }

  /**
   * Makes room for `bytes` more bytes in the chunk, for a line written in pieces (bytes, latin1,
   * utf8, digits); false when no chunk is that large (then write it with line()).
   */
  room(bytes: number): boolean {
    if (bytes > this.chunk.length) return false;
    if (this.used + bytes > this.chunk.length) this.write();
    return true;
  }

  /** Bytes encoded once, such as the constant parts of a JSON line. */
  bytes(bytes: Uint8Array): void {
    this.chunk.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Text of code points below 256 only (key type names, fingerprints): one byte each. */
  latin1(text: string): void {
    this.used += this.chunk.write(text, this.used, 'latin1');
  }

  utf8(text: string): void {
    this.used += this.chunk.write(text, this.used, 'utf8');
  }

  /** A non-negative integer in decimal, as JSON.stringify writes it, without making a string; returns its length. */
  digits(value: number): number {
    let length = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) length++;
    this.used += length;
    for (let rest = value, at = this.used; at > this.used - length; rest = Math.floor(rest / 10))
      this.chunk[--at] = 0x30 + (rest % 10);
    return length;
  }

  /** `count` spaces (none for a count below one), to pad a column. */
  spaces(count: number): void {
    if (count <= 0) return;
    this.chunk.fill(0x20, this.used, this.used + count);
    this.used += count;
  }

  newline(): void {
    this.chunk[this.used++] = 0x0a;
  }

  /** True while the reader is behind: a pipe read slower than psm parses would queue the report. */
  behind(): boolean {
    const { stdout } = this.io;
    // Only a stream that needs draining emits 'drain'.
    return stdout.writableNeedDrain && stdout.writableLength >= MAX_QUEUED_BYTES && !this.closed;
  }

  async caughtUp(): Promise<void> {
    if (this.behind()) await drained(this.io.stdout);
  }

  async end(): Promise<void> {
    this.write();
    await this.caughtUp();
  }

  private write(): void {
    if (this.used === 0) return;
    const { stdout } = this.io;
    if (!this.closed) {
      stdout.write(this.chunk.subarray(0, this.used));
      if (this.recycles) {
        this.lent.push(this.chunk);
        if (stdout.writableLength === 0) {
          this.spare.push(...this.lent);
          this.lent = [];
        }
      }
      // The stream may keep the chunk it was given: the next lines go into another.
      this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
    }
    this.used = 0;
  }
}

/** Resolves when `stream` can take more, or can take nothing ever again. */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}

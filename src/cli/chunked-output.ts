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
  private chunk = Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
  private used = 0;
  private closed = false;
  constructor(private readonly io: CliIo) {
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
    if (!this.closed) this.io.stdout.write(this.chunk.subarray(0, this.used));
    // The stream keeps the chunk it was given until it is written: the next lines go into a new one.
    this.chunk = Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
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

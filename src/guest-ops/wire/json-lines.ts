/**
 * Splits a byte stream from a QEMU channel (QMP or the guest agent) into JSON lines.
 *
 * Both speak one JSON object per line. The guest agent additionally puts the byte 0xFF in front
 * of a `guest-sync-delimited` reply; 0xFF never occurs in UTF-8, so it is an unambiguous
 * resynchronisation point: whatever partial line came before it is dropped.
 *
 * Pure logic (no I/O) so it can be tested byte by byte.
 */

export const SYNC_DELIMITER = 0xff;
const NEWLINE = 0x0a;

export type FrameEvent =
  | { readonly kind: 'line'; readonly bytes: Buffer }
  /** A 0xFF byte: the next line is the reply to a guest-sync-delimited. */
  | { readonly kind: 'delimiter' }
  /** A line grew past the limit; its bytes are dropped up to the next newline or delimiter. */
  | { readonly kind: 'oversize' };

export class JsonLineSplitter {
  private parts: Buffer[] = [];
  private buffered = 0;
  private skipping = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly honourDelimiter: boolean,
  ) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new Error('maxLineBytes must be positive');
  }

  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i += 1) {
      const byte = chunk[i];
      if (byte === NEWLINE) {
        this.take(chunk.subarray(start, i), events);
        this.endLine(events);
        start = i + 1;
      } else if (byte === SYNC_DELIMITER && this.honourDelimiter) {
        // Whatever came before the delimiter is noise from before the resynchronisation. It is
        // still counted, so an over-long run reports the same however the stream was chunked.
        this.take(chunk.subarray(start, i), events);
        this.reset();
        events.push({ kind: 'delimiter' });
        start = i + 1;
      }
    }
    this.take(chunk.subarray(start), events);
    return events;
  }

  /** Bytes of an unfinished line (for tests and diagnostics). */
  get pendingBytes(): number {
    return this.buffered;
  }

  private take(bytes: Buffer, events: FrameEvent[]): void {
    if (bytes.length === 0 || this.skipping) return;
    if (this.buffered + bytes.length > this.maxLineBytes) {
      this.reset();
      this.skipping = true;
      events.push({ kind: 'oversize' });
      return;
    }
    this.parts.push(bytes);
    this.buffered += bytes.length;
  }

  private endLine(events: FrameEvent[]): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    const line = Buffer.concat(this.parts, this.buffered);
    this.reset();
    // Blank lines carry nothing; QEMU does not send them, but a peer may.
    if (line.length > 0 && !isBlank(line)) events.push({ kind: 'line', bytes: line });
  }

  private reset(): void {
    this.parts = [];
    this.buffered = 0;
    this.skipping = false;
  }
}

function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x0d && byte !== 0x09) return false;
  return true;
}

import { open } from 'node:fs/promises';
import { parseLine, type AuditEntry } from './entry.js';
import { decodeUtf8Strict } from '../../common/utf8.js';

/**
 * Reads the end of the log backwards, chunk by chunk, until it holds the entry a checkpoint ends
 * at (or the start of the file): an append checks only what came after the last signed
 * checkpoint, so it costs the same for a log of ten entries or of a million.
 */
const CHUNK_BYTES = 64 * 1024;

export interface TailLine {
  readonly text: string | null;
  readonly entry: AuditEntry | null;
}

export interface LogTail {
  readonly exists: boolean;
  readonly size: number;
  /** Complete lines at the end of the file, oldest first. */
  readonly lines: readonly TailLine[];
  /** True when `lines` starts at the beginning of the file. */
  readonly fromStart: boolean;
  /** Byte offset where the complete lines end (after the last line break). */
  readonly cleanEnd: number;
  /** The bytes after the last line break: a cut-off write. */
  readonly torn: Buffer;
}

function toLine(bytes: Buffer): TailLine {
  const text = decodeUtf8Strict(bytes, { bom: 'drop' });
  if (text === null) return { text: null, entry: null };
  const parsed = parseLine(text, 0);
  return { text, entry: parsed.ok ? parsed.value : null };
}

/** `untilSeq`: stop once the oldest line read has this seq or a smaller one (-1: read everything). */
export async function readTail(path: string, untilSeq: number): Promise<LogTail> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT')
      return { exists: false, size: 0, lines: [], fromStart: true, cleanEnd: 0, torn: Buffer.alloc(0) };
    throw error;
  }
  try {
    const size = (await handle.stat()).size;
    let pos = size;
    let region = Buffer.alloc(0);
    for (;;) {
      const from = Math.max(0, pos - CHUNK_BYTES);
      const chunk = Buffer.alloc(pos - from);
      if (chunk.length > 0) await handle.read(chunk, 0, chunk.length, from);
      region = Buffer.concat([chunk, region]);
      pos = from;
      const lastBreak = region.lastIndexOf(0x0a);
      const cleanEnd = lastBreak < 0 ? pos : pos + lastBreak + 1;
      const complete = region.subarray(0, Math.max(0, lastBreak + 1));
      const pieces: Buffer[] = [];
      let start = 0;
      for (let nl = complete.indexOf(0x0a); nl >= 0; nl = complete.indexOf(0x0a, start)) {
        pieces.push(complete.subarray(start, nl));
        start = nl + 1;
      }
      // Unless we are at the start of the file, the first piece may be the end of a longer line.
      if (pos > 0) pieces.shift();
      const lines = pieces.map(toLine);
      const oldest = lines[0]?.entry;
      const done =
        pos === 0 || (untilSeq >= 0 && oldest !== null && oldest !== undefined && oldest.seq <= untilSeq);
      if (done)
        return {
          exists: true,
          size,
          lines,
          fromStart: pos === 0,
          cleanEnd,
          torn: Buffer.from(region.subarray(lastBreak + 1)),
        };
    }
  } finally {
    await handle.close();
  }
}

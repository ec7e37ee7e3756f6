import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { err, ok, type CodedError, type Result } from './result.js';

/**
 * Reads a small regular file psm only reads (a record, a public key): refused when it is not a
 * regular file or is larger than `maxBytes`, checked before reading and again while reading (the
 * file may grow in between). Symbolic links are followed: nothing is rewritten through them.
 */
export type BoundedFileErrorCode = 'FILE_MISSING' | 'FILE_UNREADABLE' | 'FILE_TOO_LARGE';

export type BoundedFileError = CodedError<BoundedFileErrorCode>;

// O_NONBLOCK: opening a FIFO put where a file should be must not hang psm; on a regular file the
// flag changes nothing.
export async function readBoundedFile(
  path: string,
  maxBytes: number,
): Promise<Result<Uint8Array, BoundedFileError>> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = errnoOf(error);
    return code === 'ENOENT'
      ? err({ code: 'FILE_MISSING', message: 'does not exist', file: path })
      : err({ code: 'FILE_UNREADABLE', message: `cannot be opened (${code})`, file: path });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return err({ code: 'FILE_UNREADABLE', message: 'is not a regular file', file: path });
    if (info.size > maxBytes) return tooLarge(path, maxBytes);
    // One byte more than the limit tells a file that grew after the stat from one that fits.
    const buffer = new Uint8Array(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return tooLarge(path, maxBytes);
    }
    return ok(buffer.subarray(0, length));
  } catch (error) {
    return err({ code: 'FILE_UNREADABLE', message: `cannot be read (${errnoOf(error)})`, file: path });
  } finally {
    await handle.close();
  }
}

function tooLarge(path: string, maxBytes: number): Result<never, BoundedFileError> {
  return err({ code: 'FILE_TOO_LARGE', message: `is larger than ${maxBytes} bytes`, file: path });
}

function errnoOf(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'error';
}

import { constants, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { errnoOf } from './errno.js';
import { err, ok, type CodedError, type Err, type Result } from './result.js';

/**
 * psm's one way to read input whole: bounded (the limit is checked before allocating, and again
 * while reading), and for files that hold settings or secrets, only regular files, found out
 * without blocking. A FIFO opened for reading blocks until a writer appears, so a FIFO put in
 * place of etc/psm.key or a --passphrase-file hung psm forever (issue 9, defect 4): files are
 * opened with O_NONBLOCK (no effect on a regular file's reads) and fstat'd on the open handle,
 * so what is checked is what is read.
 */

/** Named input limits, one per kind of input, checked before reading. */
export const INPUT_LIMITS = {
  /** A passphrase or a secret to seal (the vault's sealed values are smaller still). */
  secret: 4096,
  /** Bytes sent to a guest program's stdin by `psm vm exec --stdin`. */
  guestStdin: 8 * 1024 * 1024,
  /** An authorized_keys or known_hosts file given to `psm keys inspect`. */
  keysFile: 256 * 1024 * 1024,
} as const;

export type ReadErrorCode =
  /** The file does not exist. */
  | 'NOT_FOUND'
  /** Permission denied, or another error opening or reading it (the errno is in the message). */
  | 'UNREADABLE'
  /** A FIFO, socket, device or directory where a regular file is needed. */
  | 'NOT_REGULAR'
  /** A symbolic link where one is refused. */
  | 'SYMLINK'
  /** Longer than the limit. */
  | 'TOO_LARGE';

export interface ReadError extends CodedError<ReadErrorCode> {
  /** Node's errno code, when the operating system refused. */
  readonly errno?: string;
}

export interface OpenOptions {
  /** Refuse a symbolic link (O_NOFOLLOW), for a file psm will replace or must own. */
  readonly noFollow?: boolean;
}

/** Opens `path` for reading without blocking and proves it is a regular file. */
export async function openRegularFile(
  path: string,
  options: OpenOptions = {},
): Promise<Result<{ handle: FileHandle; info: Stats }, ReadError>> {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0);
  let handle: FileHandle;
  try {
    handle = await open(path, flags);
  } catch (error) {
    const errno = errnoOf(error, 'EIO');
    if (errno === 'ENOENT')
      return err({ code: 'NOT_FOUND', message: `${path} does not exist`, errno, file: path });
    // O_NOFOLLOW on a symlink fails with ELOOP.
    if (errno === 'ELOOP' && options.noFollow)
      return err({
        code: 'SYMLINK',
        message: `${path} is a symbolic link; give the real file`,
        errno,
        file: path,
      });
    return err({ code: 'UNREADABLE', message: `cannot open ${path} (${errno})`, errno, file: path });
  }
  try {
    const info = await handle.stat();
    if (info.isFile()) return ok({ handle, info });
    await handle.close();
    return err({ code: 'NOT_REGULAR', message: `${path} is not a regular file`, file: path });
  } catch (error) {
    await handle.close().catch(() => undefined);
    return err({
      code: 'UNREADABLE',
      message: `cannot read ${path} (${errnoOf(error, 'EIO')})`,
      errno: errnoOf(error, 'EIO'),
      file: path,
    });
  }
}

/** A regular file's bytes, at most `limit` of them (checked against its size before reading). */
export async function readRegularFile(
  path: string,
  limit: number,
  options: OpenOptions = {},
): Promise<Result<Uint8Array, ReadError>> {
  const read = await readRegularFileWithInfo(path, limit, { ...options, wipe: true });
  return read.ok ? ok(read.value.data) : read;
}

export interface ReadFileOptions extends OpenOptions {
  /**
   * Zero the read buffer and return a copy of the bytes (for secrets and settings: no second
   * copy is left behind). Without it, large non-secret files are returned without a copy.
   */
  readonly wipe?: boolean;
}

/** readRegularFile, with the file's stat (mode and owner, for a file psm rewrites in place). */
export async function readRegularFileWithInfo(
  path: string,
  limit: number,
  options: ReadFileOptions = {},
): Promise<Result<{ data: Uint8Array; info: Stats }, ReadError>> {
  const opened = await openRegularFile(path, options);
  if (!opened.ok) return opened;
  const { handle, info } = opened.value;
  const wipe = options.wipe === true;
  const tooLarge = (): Err<ReadError> =>
    err({ code: 'TOO_LARGE', message: `${path} is larger than ${limit} bytes`, file: path });
  try {
    if (info.size > limit) return tooLarge();
    // One byte more than the limit, so a file that grew since fstat is caught.
    const buffer = new Uint8Array(Math.min(limit, info.size) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (wipe) buffer.fill(0);
        if (length > limit) return tooLarge();
        return err({ code: 'UNREADABLE', message: `${path} changed size while being read`, file: path });
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > limit) {
      if (wipe) buffer.fill(0);
      return tooLarge();
    }
    if (!wipe) return ok({ data: buffer.subarray(0, length), info });
    const data = buffer.slice(0, length);
    buffer.fill(0);
    return ok({ data, info });
  } catch (error) {
    return err({
      code: 'UNREADABLE',
      message: `cannot read ${path} (${errnoOf(error, 'EIO')})`,
      errno: errnoOf(error, 'EIO'),
      file: path,
    });
  } finally {
    await handle.close();
  }
}

/** How much readFileChunks reads at a time. */
const CHUNK_BYTES = 64 * 1024;

/**
 * A regular file's bytes in chunks as they are read, for input too large to hold at once (psm
 * keys inspect): the checks of readRegularFile (a regular file, at most `limit` bytes by its size
 * before reading and by what is read). An error is the last item.
 */
export async function* readFileChunks(
  path: string,
  limit: number,
): AsyncGenerator<Result<Uint8Array, ReadError>, void, undefined> {
  const opened = await openRegularFile(path);
  if (!opened.ok) {
    yield opened;
    return;
  }
  const { handle, info } = opened.value;
  const tooLarge = err({
    code: 'TOO_LARGE',
    message: `${path} is larger than ${limit} bytes`,
    file: path,
  } as const);
  try {
    if (info.size > limit) {
      yield tooLarge;
      return;
    }
    for (let total = 0; ;) {
      const chunk = new Uint8Array(CHUNK_BYTES);
      let bytesRead: number;
      try {
        // A regular file's read never waits on another process: read at once, instead of
        // leaving psm idle while the thread pool reads each chunk.
        bytesRead = readSync(handle.fd, chunk, 0, chunk.length, total);
      } catch (error) {
        const errno = errnoOf(error, 'EIO');
        yield err({ code: 'UNREADABLE', message: `cannot read ${path} (${errno})`, errno, file: path });
        return;
      }
      if (bytesRead === 0) return;
      total += bytesRead;
      if (total > limit) {
        yield tooLarge;
        return;
      }
      yield ok(chunk.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

/** A stream's bytes in chunks as they arrive, at most `limit` of them; an error is the last item. */
export async function* readStreamChunks(
  stream: NodeJS.ReadableStream,
  limit: number,
  what: string,
): AsyncGenerator<Result<Uint8Array, ReadError>, void, undefined> {
  let total = 0;
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += bytes.length;
      if (total > limit) {
        yield err({ code: 'TOO_LARGE', message: `${what} is longer than ${limit} bytes` });
        return;
      }
      yield ok(bytes);
    }
  } catch (error) {
    const errno = errnoOf(error, 'EIO');
    yield err({ code: 'UNREADABLE', message: `cannot read ${what} (${errno})`, errno });
  }
}

export interface StreamReadOptions {
  /** Zero every chunk once copied (for secrets; the caller wipes the result). */
  readonly wipe?: boolean;
}

/** A stream's bytes to its end, at most `limit` of them; `what` names it in errors. */
export async function readStream(
  stream: NodeJS.ReadableStream,
  limit: number,
  what: string,
  options: StreamReadOptions = {},
): Promise<Result<Uint8Array, ReadError>> {
  const chunks: Buffer[] = [];
  let total = 0;
  const wipeAll = (): void => {
    if (options.wipe) for (const chunk of chunks) chunk.fill(0);
  };
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += bytes.length;
      if (total > limit) {
        if (options.wipe) bytes.fill(0);
        wipeAll();
        return err({ code: 'TOO_LARGE', message: `${what} is longer than ${limit} bytes` });
      }
      // A secret's chunk is copied and the original zeroed at once; the copies are wiped below.
      chunks.push(options.wipe ? Buffer.from(bytes) : bytes);
      if (options.wipe) bytes.fill(0);
    }
  } catch (error) {
    wipeAll();
    return err({
      code: 'UNREADABLE',
      message: `cannot read ${what} (${errnoOf(error, 'EIO')})`,
      errno: errnoOf(error, 'EIO'),
    });
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  wipeAll();
  return ok(out);
}

/**
 * Input typed at a terminal or written by `echo` ends with one line end that is not part of the
 * value: exactly one trailing "\n" or "\r\n" is dropped, nothing else (a lone "\r", a second
 * "\n" and spaces are kept). Raw input (`--raw`) skips this. Returns a view of `bytes`.
 */
export function withoutLineEnd(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) {
    end -= 1;
    if (end > 0 && bytes[end - 1] === 0x0d) end -= 1;
  }
  return bytes.subarray(0, end);
}

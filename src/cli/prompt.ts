import { createReadStream } from 'node:fs';
import type { ReadStream } from 'node:tty';
import {
  INPUT_LIMITS,
  readRegularFile,
  readStream,
  withoutLineEnd,
  type ReadError,
} from '../common/bounded-read.js';
import { assertNever, err, ok, type CodedError, type Result } from '../common/result.js';
import type { CliIo } from './output.js';

/**
 * Reading secrets for the CLI, never from argv: a no-echo prompt on a terminal, a file, an
 * inherited file descriptor, or stdin. Every function returns fresh bytes the caller wipes, and
 * wipes its own intermediate buffers.
 */
export const MAX_SECRET_INPUT = INPUT_LIMITS.secret;

export type PromptErrorCode =
  | 'NO_TTY'
  | 'CANCELLED'
  | 'EMPTY'
  | 'TOO_LONG'
  | 'READ_FAILED'
  /** A FIFO, device or directory given as a secret file (it could block psm forever). */
  | 'NOT_REGULAR';
export type PromptError = CodedError<PromptErrorCode>;

/** How read secrets are shaped: `raw` keeps every byte; otherwise one trailing line end goes. */
export interface SecretReadOptions {
  readonly raw?: boolean;
}

class Collector {
  private readonly buffer = new Uint8Array(MAX_SECRET_INPUT + 1);
  length = 0;

  push(bytes: Uint8Array): boolean {
    if (this.length + bytes.length > MAX_SECRET_INPUT) return false;
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return true;
  }

  /** The typed bytes (Enter is not one of them), then wiped here. */
  take(what: string): Result<Uint8Array, PromptError> {
    const out = this.buffer.slice(0, this.length);
    this.buffer.fill(0);
    if (out.length === 0) return err({ code: 'EMPTY', message: `${what} is empty` });
    return ok(out);
  }

  wipe(): void {
    this.buffer.fill(0);
  }
}

function fromRead(
  read: Result<Uint8Array, ReadError>,
  what: string,
  options: SecretReadOptions,
): Result<Uint8Array, PromptError> {
  if (!read.ok) {
    const { code, message } = read.error;
    switch (code) {
      case 'TOO_LARGE':
        return err({ code: 'TOO_LONG', message: `${what} is longer than ${MAX_SECRET_INPUT} bytes` });
      case 'NOT_REGULAR':
      case 'SYMLINK':
        return err({
          code: 'NOT_REGULAR',
          message: `${message}: give a regular file, or use a descriptor option for a pipe`,
        });
      case 'NOT_FOUND':
      case 'UNREADABLE':
        return err({ code: 'READ_FAILED', message });
      default:
        return assertNever(code);
    }
  }
  const value = options.raw === true ? read.value : withoutLineEnd(read.value);
  if (value.length === 0) {
    read.value.fill(0);
    return err({ code: 'EMPTY', message: `${what} is empty` });
  }
  const out = value.slice();
  read.value.fill(0);
  return ok(out);
}

/** A secret file: a regular file only (never a FIFO, which would block), at most MAX_SECRET_INPUT bytes. */
export async function readSecretFile(
  path: string,
  what: string,
  options: SecretReadOptions = {},
): Promise<Result<Uint8Array, PromptError>> {
  return fromRead(await readRegularFile(path, MAX_SECRET_INPUT), `the ${what} in ${path}`, options);
}

/** Reads an inherited descriptor to its end (e.g. `--passphrase-fd 3` with `3<file` or a pipe). */
export async function readSecretFd(
  fd: number,
  what: string,
  options: SecretReadOptions = {},
): Promise<Result<Uint8Array, PromptError>> {
  if (!Number.isInteger(fd) || fd < 0 || fd > 1_000_000)
    return err({ code: 'READ_FAILED', message: `${fd} is not a file descriptor number` });
  const label = `the ${what} on descriptor ${fd}`;
  const stream = createReadStream('', { fd, highWaterMark: 1024 });
  return fromRead(await readStream(stream, MAX_SECRET_INPUT, label, { wipe: true }), label, options);
}

export async function readSecretStdin(
  io: CliIo,
  what: string,
  options: SecretReadOptions = {},
): Promise<Result<Uint8Array, PromptError>> {
  const label = `the ${what} on standard input`;
  return fromRead(await readStream(io.stdin, MAX_SECRET_INPUT, label, { wipe: true }), label, options);
}

/**
 * Asks on the terminal with echo off (raw mode): Enter ends, Backspace deletes a byte, Ctrl-U
 * clears, Ctrl-C or Ctrl-D on an empty line cancels. The prompt goes to stderr.
 */
export function promptSecret(io: CliIo, prompt: string): Promise<Result<Uint8Array, PromptError>> {
  const stdin = io.stdin as ReadStream;
  if (stdin.isTTY !== true || typeof stdin.setRawMode !== 'function')
    return Promise.resolve(err({ code: 'NO_TTY', message: 'no terminal to ask on' }));
  io.stderr.write(prompt);
  const collector = new Collector();
  return new Promise((resolve) => {
    const finish = (result: Result<Uint8Array, PromptError>): void => {
      stdin.removeListener('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.stderr.write('\n');
      resolve(result);
    };
    // Returns the outcome when this byte ends the prompt, undefined to keep reading.
    const step = (byte: number): Result<Uint8Array, PromptError> | undefined => {
      if (byte === 0x0d || byte === 0x0a) return collector.take('the answer');
      if (byte === 0x03 || (byte === 0x04 && collector.length === 0))
        return err({ code: 'CANCELLED', message: 'cancelled at the prompt' });
      if (byte === 0x7f || byte === 0x08) collector.length = Math.max(0, collector.length - 1);
      else if (byte === 0x15) collector.length = 0;
      else if (byte >= 0x20 && !collector.push(Uint8Array.of(byte)))
        return err({ code: 'TOO_LONG', message: `longer than ${MAX_SECRET_INPUT} bytes` });
      return undefined;
    };
    const onData = (chunk: Buffer): void => {
      for (const byte of chunk) {
        const outcome = step(byte);
        if (outcome !== undefined) {
          collector.wipe();
          chunk.fill(0);
          finish(outcome);
          return;
        }
      }
      chunk.fill(0);
    };
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ReadStream } from 'node:tty';
import { err, ok, type CodedError, type Result } from '../common/result.js';
import type { CliIo } from './output.js';

/**
 * Reading secrets for the CLI, never from argv: a no-echo prompt on a terminal, a file, an
 * inherited file descriptor, or stdin. Every function returns fresh bytes the caller wipes, and
 * wipes its own intermediate buffers.
 */
export const MAX_SECRET_INPUT = 4096;

export type PromptErrorCode = 'NO_TTY' | 'CANCELLED' | 'EMPTY' | 'TOO_LONG' | 'READ_FAILED';
export type PromptError = CodedError<PromptErrorCode>;

class Collector {
  private readonly buffer = new Uint8Array(MAX_SECRET_INPUT + 1);
  length = 0;

  push(bytes: Uint8Array): boolean {
    if (this.length + bytes.length > MAX_SECRET_INPUT) return false;
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return true;
  }

  /** The collected bytes without one trailing newline (files end with one), then wiped here. */
  take(what: string): Result<Uint8Array, PromptError> {
    let end = this.length;
    if (end > 0 && this.buffer[end - 1] === 0x0a) end -= 1;
    if (end > 0 && this.buffer[end - 1] === 0x0d) end -= 1;
    const out = this.buffer.slice(0, end);
    this.buffer.fill(0);
    if (out.length === 0) return err({ code: 'EMPTY', message: `${what} is empty` });
    return ok(out);
  }

  wipe(): void {
    this.buffer.fill(0);
  }
}

async function readAll(
  stream: NodeJS.ReadableStream,
  what: string,
): Promise<Result<Uint8Array, PromptError>> {
  const collector = new Collector();
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      const fits = collector.push(bytes);
      bytes.fill(0);
      if (!fits) {
        collector.wipe();
        return err({ code: 'TOO_LONG', message: `${what} is longer than ${MAX_SECRET_INPUT} bytes` });
      }
    }
  } catch (error) {
    collector.wipe();
    const code =
      typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'error';
    return err({ code: 'READ_FAILED', message: `cannot read ${what} (${code})` });
  }
  return collector.take(what);
}

export async function readSecretFile(path: string, what: string): Promise<Result<Uint8Array, PromptError>> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code =
      typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'error';
    return err({ code: 'READ_FAILED', message: `cannot open ${path} for the ${what} (${code})` });
  }
  return readAll(handle.createReadStream({ highWaterMark: 1024 }), `the ${what} in ${path}`);
}

/** Reads an inherited descriptor to its end (e.g. `--passphrase-fd 3` with `3<file` or a pipe). */
export function readSecretFd(fd: number, what: string): Promise<Result<Uint8Array, PromptError>> {
  if (!Number.isInteger(fd) || fd < 0 || fd > 1_000_000)
    return Promise.resolve(err({ code: 'READ_FAILED', message: `${fd} is not a file descriptor number` }));
  return readAll(createReadStream('', { fd, highWaterMark: 1024 }), `the ${what} on descriptor ${fd}`);
}

export function readSecretStdin(io: CliIo, what: string): Promise<Result<Uint8Array, PromptError>> {
  return readAll(io.stdin, `the ${what} on standard input`);
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

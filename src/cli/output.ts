import type { Writable } from 'node:stream';
import { escapeLine, escapeLines } from '../common/terminal-text.js';

/** Where commands print. Tests pass their own streams; the real CLI uses the process's. */
export interface CliIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };

/** Exact: JSON escapes what needs escaping, and scripts get the bytes as they are. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * One human line. Much of what psm prints came from a file, a guest or a user (comments, file
 * names, guest details), so control and bidi characters are shown escaped (src/common/terminal-text.ts).
 */
export function printLine(io: CliIo, text = ''): void {
  io.stdout.write(`${escapeLine(text)}\n`);
}

/** A line on stderr (a warning, a finding), escaped like printLine. */
export function printError(io: CliIo, text: string): void {
  io.stderr.write(`${escapeLine(text)}\n`);
}

/** Several human lines (a report ending in a newline), each escaped, the newlines kept. */
export function printText(io: CliIo, text: string): void {
  io.stdout.write(escapeLines(text));
}

/**
 * A guest program's output: its exact bytes into a pipe or file (`psm vm exec w1 /bin/cat f > f`
 * must copy f), escaped lines on a terminal, where a guest must not drive the operator's screen.
 */
export function writeGuestOutput(stream: Writable & { isTTY?: boolean }, bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  if (stream.isTTY === true) stream.write(escapeLines(Buffer.from(bytes).toString('utf8')));
  else stream.write(bytes);
}

import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface PsmRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real CLI entry point in-process, as `psm ARGS...` with `stdinText` on stdin, and
 * collects what it printed. process.exitCode is reset around the call so tests stay independent.
 */
export async function runPsmInProcess(args: readonly string[], stdinText = ''): Promise<PsmRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  const out: Buffer[] = [];
  const errs: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => errs.push(chunk));
  stdin.end(stdinText);
  process.exitCode = undefined;
  const code = await main(['node', 'psm', ...args], { stdout, stderr, stdin });
  process.exitCode = undefined;
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errs).toString() };
}

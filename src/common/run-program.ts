import { spawn } from 'node:child_process';

/**
 * The one way psm runs a host program: an absolute or PATH-resolved file and an argv array,
 * never a shell, always with a timeout. Secrets must go through `input` (stdin), never argv or env.
 */
export interface RunOptions {
  readonly timeoutMs: number;
  /** Written to the child's stdin, then stdin is closed. */
  readonly input?: string | Uint8Array;
  /** Extra environment entries; the child inherits process.env otherwise (see `cleanEnv`). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly signal?: AbortSignal;
  /** Output beyond this many bytes per stream is a failure, not a silent truncation. */
  readonly maxOutputBytes?: number;
}

export interface RunOutcome {
  /** Exit code, or null when the child died of a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export type RunErrorCode = 'SPAWN_FAILED' | 'TIMEOUT' | 'ABORTED' | 'OUTPUT_TOO_LARGE';

export class RunError extends Error {
  constructor(
    readonly code: RunErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RunError';
  }
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export function runProgram(file: string, args: readonly string[], options: RunOptions): Promise<RunOutcome> {
  const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise((resolve, reject) => {
    let settled = false;
    const child = spawn(file, [...args], {
      shell: false,
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    const fail = (error: RunError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new RunError('TIMEOUT', `${file} did not finish within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxBytes)
        fail(new RunError('OUTPUT_TOO_LARGE', `${file} wrote more than ${maxBytes} bytes`));
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errBytes += chunk.length;
      if (errBytes > maxBytes)
        fail(new RunError('OUTPUT_TOO_LARGE', `${file} wrote more than ${maxBytes} bytes`));
      else stderr.push(chunk);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') fail(new RunError('ABORTED', `${file} was aborted`));
      else fail(new RunError('SPAWN_FAILED', `cannot run ${file}: ${error.code ?? error.message}`));
    });
    child.on('close', (exitCode, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
    });
    // A child that exits without reading stdin makes the write fail with EPIPE; that is not our error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Helpers for the vault suites: a temp location and the real CLI (bin/psm.js, built by npm test). */
export const PSM_BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'psm.js');

export interface TempLocation {
  readonly root: string;
  readonly location: string;
  cleanup(): void;
}

export function tempLocation(): TempLocation {
  const root = mkdtempSync(join(tmpdir(), 'psm-vault-'));
  return {
    root,
    location: join(root, 'popc'),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface PsmRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  /** stdout exactly as written (for binary secrets). */
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

export interface PsmRunOptions {
  readonly input?: string | Uint8Array;
  /** Written to the child's fd 3 (for --passphrase-fd 3). */
  readonly fd3?: string | Uint8Array;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly cwd?: string;
  /** Run as this user and group (the suites run as root, which no file mode stops). */
  readonly uid?: number;
  readonly gid?: number;
}

/** Runs `node bin/psm.js ...args` with argv only (no shell) and collects its output. */
export function runPsm(args: readonly string[], options: PsmRunOptions = {}): Promise<PsmRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [PSM_BIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe', ...(options.fd3 === undefined ? [] : (['pipe'] as const))],
      env: { ...process.env, POPC_LOCATION: '', CREDENTIALS_DIRECTORY: '', ...options.env },
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => errs.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stdoutBytes: Buffer.concat(out),
        stderr: Buffer.concat(errs).toString('utf8'),
      });
    });
    child.stdin?.end(options.input ?? '');
    if (options.fd3 !== undefined) {
      const fd3 = child.stdio[3] as NodeJS.WritableStream;
      fd3.end(options.fd3);
    }
  });
}

/** Bytes, mode and mtime of every file under `dir`: proves "nothing was touched". */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const info = statSync(path);
      if (info.isDirectory()) walk(path);
      else
        out[path] =
          `${(info.mode & 0o777).toString(8)} ${info.mtimeMs} ` +
          createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/**
 * A real qemu-ga (the Debian package) running on the host, listening on a Unix socket in a temp
 * dir, for testing the QGA client without a VM. It runs as root: tests only make it touch files
 * inside its own temp dir and run harmless programs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir } from './temp-dir.js';
import { waitForSocket } from './wait-for-socket.js';

export const QEMU_GA_PATH = '/usr/sbin/qemu-ga';
const START_TIMEOUT_MS = 10_000;

export interface HostAgent {
  readonly dir: string;
  readonly socketPath: string;
  readonly pid: number;
  /** SIGSTOP / SIGCONT: a hung agent, as a paused VM would be. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startHostAgent(): Promise<HostAgent> {
  const temp = await makeTempDir('qga');
  const socketPath = join(temp.path, 'qga.sock');
  const child: ChildProcess = spawn(
    QEMU_GA_PATH,
    ['-m', 'unix-listen', '-p', socketPath, '-t', temp.path, '-f', join(temp.path, 'qga.pid')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForSocket(child, socketPath, 'qemu-ga', START_TIMEOUT_MS, () => stderr);
  const pid = child.pid ?? 0;
  return {
    dir: temp.path,
    socketPath,
    pid,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      await temp.remove();
    },
  };
}

/**
 * A real QEMU with no guest (-S: the vCPUs never start), for testing the QMP client. Started as
 * a child process (not daemonized) so the test can always kill it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir } from './temp-dir.js';
import { waitForSocket } from './wait-for-socket.js';

const START_TIMEOUT_MS = 20_000;

export interface BareQemu {
  readonly socketPath: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stop(): Promise<void>;
}

export async function startBareQemu(extraArgs: readonly string[] = []): Promise<BareQemu> {
  const temp = await makeTempDir('qmp');
  const socketPath = join(temp.path, 'qmp.sock');
  const child = spawn(
    'qemu-system-x86_64',
    [
      '-M',
      'q35',
      '-accel',
      'tcg',
      '-m',
      '64',
      '-display',
      'none',
      '-nodefaults',
      '-S',
      '-qmp',
      `unix:${socketPath},server=on,wait=off`,
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: temp.path },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForSocket(child, socketPath, 'qemu', START_TIMEOUT_MS, () => stderr);
  return {
    socketPath,
    child,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      await temp.remove();
    },
  };
}

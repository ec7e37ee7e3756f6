import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** True once something accepts a connection on `socketPath` (the probe closes at once). */
function accepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Waits until `child` listens on `socketPath`. The file alone is not enough: it appears at
 * bind(), a moment before listen(), and a client in that moment is refused (seen under load). Throws (after killing the child on timeout) if
 * the child exits first or takes longer than `timeoutMs`; `describe()` gives the child's stderr.
 */
export async function waitForSocket(
  child: ChildProcess,
  socketPath: string,
  what: string,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited: ${describe()}`);
    if (await accepts(socketPath)) return;
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not create its socket`);
    }
    await sleep(20);
  }
}

import type { ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until `child` has created `socketPath`. Throws (after killing the child on timeout) if
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
    const exists = await access(socketPath).then(
      () => true,
      () => false,
    );
    if (exists) return;
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not create its socket`);
    }
    await sleep(20);
  }
}

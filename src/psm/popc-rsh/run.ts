import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { acquirePidLock } from '../../common/pid-lock.js';
import { loadTunnelMap } from './config.js';
import type { PopcRshErrorCode } from './errors.js';
import { planLaunch } from './plan.js';

/**
 * How long a start waits for the worker's previous object to end (its ssh exits a moment after
 * the object does, when a program creates its objects one after the other on one worker).
 */
export const WORKER_WAIT_MS = 15_000;

function refuse(code: PopcRshErrorCode, message: string): number {
  process.stderr.write(`psm-popc-rsh: ${code}: ${message}\n`);
  return 2;
}

/**
 * psm's $POPC_RSH: POP-C++'s client runs it to start an object on a worker. It plans the SSH
 * command (restricted key, pinned host key, the documented tunnels only), takes the worker's lock
 * (its callback and appservice ports carry one object at a time), and runs the real OpenSSH
 * client with stdio passed through; ssh lives as long as the object holds its session. Returns
 * the exit code (ssh's, or 2 when psm refused and ran nothing).
 */
export async function runPopcRsh(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const map = await loadTunnelMap(env.PSM_POPC_TUNNELS);
  const plan = map.ok ? planLaunch(argv, map.value) : map;
  if (!plan.ok) return refuse(plan.error.code, plan.error.message);
  const lockDir = join(dirname(env.PSM_POPC_TUNNELS ?? '/'), `popc-rsh-${plan.value.worker.name}.lock`);
  const lock = await acquirePidLock(lockDir, { waitMs: WORKER_WAIT_MS });
  if (!lock.ok)
    return lock.error.code === 'LOCK_BUSY'
      ? refuse('POPC_RSH_WORKER_BUSY', `worker ${plan.value.worker.name} is running another object`)
      : refuse('POPC_RSH_LOCK_IO', lock.error.message);
  try {
    const child = spawn('ssh', [...plan.value.sshArgs], {
      stdio: 'inherit',
      env: { PATH: env.PATH ?? '/usr/bin:/bin' },
    });
    return await new Promise<number>((resolve) => {
      child.on('error', () => resolve(127));
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    await lock.value.release();
  }
}

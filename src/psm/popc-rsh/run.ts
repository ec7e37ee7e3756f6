import { spawn } from 'node:child_process';
import { loadTunnelMap } from './config.js';
import { planLaunch } from './plan.js';

/**
 * psm's $POPC_RSH: POP-C++'s client runs it to start an object on a worker. It plans the SSH
 * command (restricted key, pinned host key, the documented tunnels only) and runs the real
 * OpenSSH client with stdio passed through; ssh lives as long as the object holds its session.
 * Returns the exit code (ssh's, or 2 when psm refused and ran nothing).
 */
export async function runPopcRsh(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const map = await loadTunnelMap(env.PSM_POPC_TUNNELS);
  const plan = map.ok ? planLaunch(argv, map.value) : map;
  if (!plan.ok) {
    process.stderr.write(`psm-popc-rsh: ${plan.error.code}: ${plan.error.message}\n`);
    return 2;
  }
  const child = spawn('ssh', [...plan.value.sshArgs], {
    stdio: 'inherit',
    env: { PATH: env.PATH ?? '/usr/bin:/bin' },
  });
  return new Promise((resolve) => {
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

import { join } from 'node:path';

/** Where the daemon keeps its files under a POP-C++ location (`var/psm`, beside the vault's). */
export interface DaemonPaths {
  readonly dir: string;
  readonly socket: string;
  readonly database: string;
  /** The pid lock (src/common/pid-lock.ts): one daemon per location. */
  readonly lock: string;
}

export function daemonPaths(location: string): DaemonPaths {
  const dir = join(location, 'var', 'psm');
  return {
    dir,
    socket: join(dir, 'psm.sock'),
    database: join(dir, 'jobmgr.db'),
    lock: join(dir, 'daemon.lock'),
  };
}

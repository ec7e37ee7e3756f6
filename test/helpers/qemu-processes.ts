import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * PIDs of live qemu-system processes whose command line names `dir` (a run's own VMs: their
 * disks, sockets and pid files are under it). An exited QEMU stays a zombie for a moment; a
 * zombie has an empty command line, so it is not counted.
 */
export async function qemuProcessesNaming(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = (await readFile(join('/proc', entry, 'cmdline'), 'utf8')).split('\0');
    } catch {
      continue;
    }
    if ((argv[0] ?? '').includes('qemu-system') && argv.some((a) => a.includes(dir)))
      found.push(Number(entry));
  }
  return found;
}

/** qemuProcessesNaming, after giving exiting processes up to `waitMs` to go. */
export async function qemuProcessesLeft(dir: string, waitMs = 10_000): Promise<number[]> {
  for (let waited = 0; waited < waitMs; waited += 250) {
    if ((await qemuProcessesNaming(dir)).length === 0) return [];
    await sleep(250);
  }
  return qemuProcessesNaming(dir);
}

import { readFile, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VmLayout } from './vm-layout.js';

/**
 * The daemonized QEMU process of a VM, found through its pidfile. A pid is only trusted when
 * /proc/<pid>/cmdline names this VM's own pidfile: a stale pidfile whose pid was reused by another
 * process must never get that process killed.
 */

const MAX_PIDFILE_BYTES = 32;

/** The pid of this VM's QEMU, if it runs. */
export async function runningPid(layout: VmLayout): Promise<number | undefined> {
  let text: string;
  try {
    const bytes = await readFile(layout.pidfile);
    if (bytes.length > MAX_PIDFILE_BYTES) return undefined;
    text = bytes.toString('utf8').trim();
  } catch {
    return undefined;
  }
  if (!/^[1-9]\d{0,9}$/.test(text)) return undefined;
  const pid = Number(text);
  return (await isOurQemu(pid, layout)) ? pid : undefined;
}

async function isOurQemu(pid: number, layout: VmLayout): Promise<boolean> {
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`)).toString('utf8').split('\0');
    const at = argv.indexOf('-pidfile');
    if (at < 0 || argv[at + 1] !== layout.pidfile) return false;
    // A zombie has an empty cmdline, so reaching here means it is alive and ours.
    // comm may itself contain ')', so the state is the field after the last one.
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Waits until the VM's QEMU is gone; false if it still runs after `timeoutMs`. */
export async function waitForExit(layout: VmLayout, pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isOurQemu(pid, layout))) return true;
    if (Date.now() >= until) return false;
    await sleep(50);
  }
}

/** SIGKILL, only after checking again that the pid is this VM's QEMU. */
export async function killQemu(layout: VmLayout, pid: number): Promise<boolean> {
  if (!(await isOurQemu(pid, layout))) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return !(await isOurQemu(pid, layout));
  }
  return waitForExit(layout, pid, 10_000);
}

/** Removes what a QEMU run leaves (sockets, pidfile) once the process is gone. */
export async function removeRunFiles(layout: VmLayout): Promise<void> {
  for (const path of [layout.qmpSocket, layout.qgaSocket, layout.pidfile])
    await unlink(path).catch(() => undefined);
}

import { readFile } from 'node:fs/promises';

/**
 * Who a process is, in a way a reused pid cannot fake: pid, start time (clock ticks since boot,
 * field 22 of /proc/PID/stat) and the kernel's boot id (a pid and start tick can repeat after a
 * reboot, e.g. for a service started at boot). Linux only, like the rest of psm.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: string;
  readonly bootId: string;
}

/** What /proc says about a pid now: gone, running (with its start time), or unknown (no access). */
export type ProcessState =
  | { readonly kind: 'gone' }
  | { readonly kind: 'running'; readonly startTime: string }
  | { readonly kind: 'unknown' };

let bootIdCache: string | undefined;

export async function bootId(): Promise<string> {
  if (bootIdCache === undefined)
    bootIdCache = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  return bootIdCache;
}

export async function processState(pid: number): Promise<ProcessState> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    // ENOENT/ESRCH: no such process. Anything else (EACCES under hidepid) proves nothing.
    return code === 'ENOENT' || code === 'ESRCH' ? { kind: 'gone' } : { kind: 'unknown' };
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  if (startTime === undefined || !/^\d{1,20}$/.test(startTime)) return { kind: 'unknown' };
  // A zombie (exited, not yet reaped) or dead task holds nothing any more.
  if (state === 'Z' || state === 'X' || state === 'x') return { kind: 'gone' };
  return { kind: 'running', startTime };
}

export async function currentIdentity(): Promise<ProcessIdentity> {
  const state = await processState(process.pid);
  if (state.kind !== 'running') throw new Error('bug: /proc/self/stat is unreadable');
  return { pid: process.pid, startTime: state.startTime, bootId: await bootId() };
}

/**
 * True when the process `identity` names still runs: same boot, same pid, same start time.
 * Unknown (no access to /proc) counts as alive, so a lock is never taken from a live holder.
 */
export async function isRunning(identity: ProcessIdentity): Promise<boolean> {
  if (identity.bootId !== (await bootId())) return false;
  const state = await processState(identity.pid);
  if (state.kind === 'gone') return false;
  if (state.kind === 'unknown') return true;
  return state.startTime === identity.startTime;
}

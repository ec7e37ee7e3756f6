import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireVmLock, lockPath, releaseVmLock } from '../../src/guest-ops/qemu/vm-lock.js';
import { vmLayout, type VmLayout } from '../../src/guest-ops/qemu/vm-layout.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** The claim name the common pid lock uses for `pid`: "PID.STARTTIME.BOOTID", read from /proc. */
async function claimOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  return `${pid}.${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}.${boot}`;
}

// The per-VM lock against the real /proc of this machine.
describe('per-VM lock', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let layout: VmLayout;

  beforeEach(async () => {
    temp = await makeTempDir('vm-lock');
    const made = vmLayout(temp.path, 'w1');
    if (!made.ok) throw new Error(made.error.message);
    layout = made.value;
    await mkdir(layout.dir);
  });

  afterEach(() => temp.remove());

  it('is taken, re-entrant within the process, and released', async () => {
    expect((await acquireVmLock(layout)).ok).toBe(true);
    expect(await readdir(lockPath(layout))).toEqual([await claimOf(process.pid)]);
    expect((await acquireVmLock(layout)).ok).toBe(true);
    await releaseVmLock(layout);
    expect(await readdir(lockPath(layout))).toEqual([]);
  });

  it('refuses with WORKER_BUSY while another live process holds it, and leaves its claim alone', async () => {
    const other = await claimOf(process.ppid);
    await mkdir(lockPath(layout));
    await writeFile(join(lockPath(layout), other), '');
    const result = await acquireVmLock(layout);
    expect(!result.ok && result.error.code).toBe('WORKER_BUSY');
    expect(!result.ok && result.error.message).toContain(`pid ${process.ppid}`);
    await releaseVmLock(layout);
    expect(await readdir(lockPath(layout))).toEqual([other]);
  });

  it('takes over a stale claim: a dead pid, a live pid that started at another time, another boot', async () => {
    const [pid, start, boot] = (await claimOf(process.ppid)).split('.') as [string, string, string];
    await mkdir(lockPath(layout));
    for (const stale of [
      `999999999.12345.${boot}`,
      `${pid}.1.${boot}`,
      `${pid}.${start}.00000000-0000-4000-8000-000000000000`,
    ]) {
      await writeFile(join(lockPath(layout), stale), '');
      expect((await acquireVmLock(layout)).ok).toBe(true);
      // The dead holder's claim is cleared by the taker.
      expect(await readdir(lockPath(layout))).toEqual([await claimOf(process.pid)]);
      await releaseVmLock(layout);
    }
  });
});

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireVmLock, lockPath, releaseVmLock } from '../../src/guest-ops/qemu/vm-lock.js';
import { vmLayout, type VmLayout } from '../../src/guest-ops/qemu/vm-layout.js';
import { makeTempDir } from '../helpers/temp-dir.js';

async function identityOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
}

// The per-VM lock against the real /proc of this machine.
describe('per-VM lock file', () => {
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
    expect(await readFile(lockPath(layout), 'utf8')).toBe(await identityOf(process.pid));
    expect((await acquireVmLock(layout)).ok).toBe(true);
    await releaseVmLock(layout);
    await expect(readFile(lockPath(layout))).rejects.toThrow();
  });

  it('refuses with WORKER_BUSY while another live process holds it, and leaves its lock alone', async () => {
    const other = await identityOf(process.ppid);
    await writeFile(lockPath(layout), other);
    const result = await acquireVmLock(layout);
    expect(!result.ok && result.error.code).toBe('WORKER_BUSY');
    await releaseVmLock(layout);
    expect(await readFile(lockPath(layout), 'utf8')).toBe(other);
  });

  it('takes over a stale lock: a dead pid, or a live pid that started at another time', async () => {
    for (const stale of ['999999999 12345', `${process.ppid} 1`, 'garbage']) {
      await writeFile(lockPath(layout), stale);
      expect((await acquireVmLock(layout)).ok).toBe(true);
      await releaseVmLock(layout);
    }
  });
});

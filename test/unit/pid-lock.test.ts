import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquirePidLock } from '../../src/common/pid-lock.js';
import { currentIdentity } from '../../src/common/process-identity.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The common pid lock against this machine's real /proc; the cross-process race is covered by
// test/e2e/vault-concurrent-writers.test.ts (real psm processes).
describe('pid lock', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let dir: string;
  beforeEach(async () => {
    temp = await makeTempDir('pid-lock');
    dir = join(temp.path, 'lock');
  });
  afterEach(() => temp.remove());

  it('names its holder the moment it exists, and release removes the claim', async () => {
    const lock = await acquirePidLock(dir);
    if (!lock.ok) throw new Error(lock.error.message);
    const me = await currentIdentity();
    expect(await readdir(dir)).toEqual([`${me.pid}.${me.startTime}.${me.bootId}`]);
    await lock.value.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('serialises holders in one process when not re-entrant: the second waits for the first', async () => {
    const order: string[] = [];
    const first = await acquirePidLock(dir);
    if (!first.ok) throw new Error(first.error.message);
    const second = acquirePidLock(dir, { waitMs: 5_000 }).then((lock) => {
      order.push('second');
      return lock;
    });
    const refused = await acquirePidLock(dir);
    expect(!refused.ok && refused.error.code).toBe('LOCK_BUSY');
    order.push('first released');
    await first.value.release();
    const got = await second;
    expect(got.ok).toBe(true);
    expect(order).toEqual(['first released', 'second']);
    if (got.ok) await got.value.release();
  });

  it('gives a live foreign holder LOCK_BUSY with its pid, after waiting at most waitMs', async () => {
    const me = await currentIdentity();
    await mkdir(dir);
    // The parent (vitest's runner) is alive: its claim is honoured and left alone.
    const stat = await readFile(`/proc/${process.ppid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
    const parent = `${process.ppid}.${start}.${me.bootId}`;
    await writeFile(join(dir, parent), '');
    const result = await acquirePidLock(dir, { waitMs: 50 });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('LOCK_BUSY');
      expect(result.error.holder).toBe(process.ppid);
    }
    expect(await readdir(dir)).toEqual([parent]);
  });

  it('ignores files that are not claims, and refuses a lock path that is not a directory', async () => {
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'hello');
    const lock = await acquirePidLock(dir);
    expect(lock.ok).toBe(true);
    if (lock.ok) await lock.value.release();
    const file = join(temp.path, 'file-lock');
    await writeFile(file, '12345\n');
    const asFile = await acquirePidLock(file);
    expect(!asFile.ok && asFile.error.code).toBe('LOCK_IO');
    const link = join(temp.path, 'link-lock');
    await symlink(dir, link);
    const asLink = await acquirePidLock(link);
    expect(!asLink.ok && asLink.error.code).toBe('LOCK_IO');
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PoolStore } from '../../src/jobmgr/state/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const prepared = { ssh: { host: '127.0.0.1', port: 2222 }, hostKeys: ['ssh-ed25519 AAAA'] };

describe('the pool state database (real SQLite)', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let store: PoolStore;
  let file: string;

  beforeEach(async () => {
    dir = await makeTempDir('jobmgr-store');
    file = join(dir.path, 'jobmgr.db');
    const opened = PoolStore.open(file, 'w-');
    if (!opened.ok) throw new Error(opened.error.message);
    store = opened.value;
  });
  afterEach(async () => {
    store.close();
    await dir.remove();
  });

  function readyWorker(): string {
    const name = store.addWorker(1);
    expect(store.transition(name, ['cloning'], 'booting', 2)).toBe(true);
    expect(store.transition(name, ['booting'], 'preparing', 3)).toBe(true);
    expect(store.markPrepared(name, prepared, 4)).toBe(true);
    return name;
  }

  it('runs in WAL mode and names workers from a sequence that is never reused', () => {
    const a = store.addWorker(1);
    store.removeWorker(a);
    const b = store.addWorker(2);
    expect([a, b]).toEqual(['w-1', 'w-2']);
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('moves a worker only from the states named, and derives the free count from the rows', () => {
    const name = store.addWorker(1);
    expect(store.transition(name, ['ready'], 'reserved', 2)).toBe(false);
    expect(store.freeCount()).toBe(0);
    store.transition(name, ['cloning'], 'booting', 2);
    store.transition(name, ['booting'], 'preparing', 3);
    store.markPrepared(name, prepared, 4);
    expect(store.freeCount()).toBe(1);
    expect(store.worker(name)).toMatchObject({
      state: 'ready',
      ssh: prepared.ssh,
      hostKeys: prepared.hostKeys,
    });
  });

  it('claims the longest-ready worker, one application per worker, and gives it back on revert', () => {
    const first = readyWorker();
    const second = readyWorker();
    const keys = [{ role: 'main-node' as const, key: 'ssh-ed25519 AAAA' }];
    expect(store.claimFree('app1', keys, 10)?.name).toBe(first);
    expect(store.claimFree('app2', [], 11)?.name).toBe(second);
    expect(store.claimFree('app3', [], 12)).toBeUndefined();
    store.activate('app1', 'job1', keys, 13);
    store.activate('app1', 'job2', keys, 14);
    expect(store.app('app1')).toMatchObject({ phase: 'active', worker: first, jobs: ['job1', 'job2'], keys });
    expect(store.removeJob('app1', 'job1', 15)).toBe(true);
    expect(store.removeJob('app1', 'job1', 15)).toBe(false);
    expect(store.beginEnd('app1', 16)).toBe(first);
    expect(store.worker(first)).toMatchObject({ state: 'reverting', app: 'app1' });
    expect(store.finishRevert(first, 17)).toBe(true);
    expect(store.app('app1')).toBeUndefined();
    expect(store.worker(first)).toMatchObject({ state: 'ready', app: undefined, reverts: 1 });
    expect(store.checkInvariants()).toEqual([]);
  });

  it('refuses, at the database, a second application on one worker', () => {
    const name = readyWorker();
    store.claimFree('app1', [], 10);
    const raw = new Database(file);
    expect(() =>
      raw
        .prepare(
          `INSERT INTO apps (app_id, worker, phase, keys, created_at, last_active) VALUES (?, ?, 'active', '[]', 1, 1)`,
        )
        .run('app2', name),
    ).toThrow(/UNIQUE/);
    raw.close();
  });

  it('lists idle applications: active, no job, last request before the cutoff', () => {
    readyWorker();
    readyWorker();
    store.claimFree('busy', [], 10);
    store.activate('busy', 'j', [], 10);
    store.claimFree('idle', [], 10);
    store.activate('idle', 'j', [], 10);
    store.removeJob('idle', 'j', 20);
    expect(store.idleApps(21)).toEqual(['idle']);
    expect(store.idleApps(20)).toEqual([]);
  });

  it('a failed worker loses its application in the same transaction', () => {
    const name = readyWorker();
    store.claimFree('app1', [], 10);
    store.markFailed(name, 'x'.repeat(10_000), 11);
    expect(store.app('app1')).toBeUndefined();
    expect(store.worker(name)?.lastError?.length).toBe(512);
    expect(store.countByState().failed).toBe(1);
  });

  it('keeps every committed transition across a reopen', () => {
    const name = readyWorker();
    store.claimFree('app1', [], 10);
    store.activate('app1', 'job1', [], 11);
    store.close();
    const again = PoolStore.open(file, 'w-');
    if (!again.ok) throw new Error(again.error.message);
    store = again.value;
    expect(store.app('app1')).toMatchObject({ worker: name, jobs: ['job1'] });
  });

  it('refuses a database with a newer schema', () => {
    store.close();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();
    const opened = PoolStore.open(file, 'w-');
    expect(opened.ok ? 'opened' : opened.error.code).toBe('STATE_INVALID');
    // afterEach closes the (already closed) store again: close() is idempotent.
  });
});

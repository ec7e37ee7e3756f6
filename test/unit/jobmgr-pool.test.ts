import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryLifecycle } from '../../src/jobmgr/memory-lifecycle.js';
import { Pool } from '../../src/jobmgr/pool.js';
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from '../../src/jobmgr/settings.js';
import { PoolStore } from '../../src/jobmgr/state/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

describe('the pool over the in-memory lifecycle (real SQLite)', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let lifecycle: MemoryLifecycle;
  let pool: Pool;
  let store: PoolStore;

  async function startPool(settings: Partial<PoolSettings>, life = new MemoryLifecycle()): Promise<Pool> {
    lifecycle = life;
    const opened = PoolStore.open(join(dir.path, 'jobmgr.db'), 'w-');
    if (!opened.ok) throw new Error(opened.error.message);
    store = opened.value;
    pool = new Pool({
      store,
      lifecycle,
      settings: { ...DEFAULT_POOL_SETTINGS, namePrefix: 'w-', ...settings },
      maintenanceMs: 50,
    });
    const started = await pool.start();
    if (!started.ok) throw new Error(started.error.message);
    return pool;
  }

  async function quiet(): Promise<void> {
    for (
      let i = 0;
      i < 200 &&
      (pool.status().workers.cloning + pool.status().workers.booting + pool.status().workers.preparing > 0 ||
        pool.status().workers.reverting > 0);
      i++
    )
      await sleep(5);
  }

  beforeEach(async () => {
    dir = await makeTempDir('jobmgr-pool');
  });
  afterEach(async () => {
    await pool.close(1000);
    store.close();
    await dir.remove();
  });

  it('fills keep_free in the background and serves a reserve from a warm worker', async () => {
    await startPool({ maxVms: 3, keepFree: 1 });
    await quiet();
    expect(pool.status()).toMatchObject({ free: 1, total: 1 });
    const first = await pool.reserve({ appId: 'app1', jobId: 'j1', keys: [{ role: 'main-node', key: KEY }] });
    expect(first.ok && first.value).toMatchObject({
      app: 'app1',
      worker: 'w-1',
      warm: true,
      hostKeys: ['ssh-ed25519 w-1'],
    });
    await quiet();
    expect(pool.status()).toMatchObject({ free: 1, total: 2 });
    expect(lifecycle.workers.get('w-1')?.keys.get('app1')).toEqual([{ role: 'main-node', key: KEY }]);
  });

  it('a reserve names the host keys pinned now, not those of the preparation (rotate-keys --host-keys changed them)', async () => {
    const pins = new Map<string, string[]>();
    class Pinned extends MemoryLifecycle {
      async pinnedHostKeys(name: string) {
        const keys = pins.get(name);
        return keys === undefined
          ? ({ ok: false, error: { code: 'NOT_PINNED', message: `no pin for ${name}` } } as const)
          : ({ ok: true, value: keys } as const);
      }
    }
    await startPool({ maxVms: 2, keepFree: 1 }, new Pinned());
    await quiet();
    pins.set('w-1', ['ssh-ed25519 rotated-w-1']);
    const first = await pool.reserve({ appId: 'a', jobId: '1', keys: [] });
    expect(first.ok && first.value.hostKeys).toEqual(['ssh-ed25519 rotated-w-1']);
    expect(store.worker('w-1')?.hostKeys).toEqual(['ssh-ed25519 rotated-w-1']);
    // An unreadable pin keeps the state's keys (and is logged).
    pins.delete('w-1');
    const again = await pool.reserve({ appId: 'a', jobId: '2', keys: [] });
    expect(again.ok && again.value.hostKeys).toEqual(['ssh-ed25519 rotated-w-1']);
  });

  it('gives every job of an application the same worker, and two applications two workers', async () => {
    await startPool({ maxVms: 3, keepFree: 1 });
    const [a, b] = await Promise.all([
      pool.reserve({ appId: 'a', jobId: '1', keys: [] }),
      pool.reserve({ appId: 'b', jobId: '1', keys: [] }),
    ]);
    const a2 = await pool.reserve({ appId: 'a', jobId: '2', keys: [] });
    if (!a.ok || !b.ok || !a2.ok) throw new Error('a reserve failed');
    expect(a.value.worker).not.toBe(b.value.worker);
    expect(a2.value.worker).toBe(a.value.worker);
    expect(store.app('a')?.jobs).toEqual(['1', '2']);
  });

  it('at max_vms a reserve waits for an end, and past its deadline is POOL_EXHAUSTED', async () => {
    await startPool({ maxVms: 1, keepFree: 1 });
    expect((await pool.reserve({ appId: 'a', jobId: '1', keys: [] })).ok).toBe(true);
    const refused = await pool.reserve({ appId: 'b', jobId: '1', keys: [], waitMs: 30 });
    expect(refused.ok ? 'ok' : refused.error.code).toBe('POOL_EXHAUSTED');
    const waiting = pool.reserve({ appId: 'c', jobId: '1', keys: [], waitMs: 5_000 });
    const ended = await pool.end('a');
    expect(ended.ok && ended.value).toMatchObject({ worker: 'w-1', outcome: 'reverted' });
    const got = await waiting;
    expect(got.ok && got.value.worker).toBe('w-1');
    expect(lifecycle.workers.get('w-1')?.keys.has('a')).toBe(false);
    expect(lifecycle.violations).toEqual([]);
  });

  it('release and end answer APP_NOT_FOUND / JOB_NOT_FOUND for what is not there', async () => {
    await startPool({ maxVms: 2, keepFree: 1 });
    await pool.reserve({ appId: 'a', jobId: '1', keys: [] });
    expect(await pool.release('a', '9')).toMatchObject({ ok: false, error: { code: 'JOB_NOT_FOUND' } });
    expect(await pool.release('zz', '1')).toMatchObject({ ok: false, error: { code: 'APP_NOT_FOUND' } });
    expect(await pool.release('a', '1')).toMatchObject({ ok: true, value: { jobs: 0 } });
    expect(await pool.end('zz')).toMatchObject({ ok: false, error: { code: 'APP_NOT_FOUND' } });
  });

  it('on_app_end = destroy destroys the worker and clones a new one', async () => {
    await startPool({ maxVms: 2, keepFree: 1, onAppEnd: 'destroy' });
    await pool.reserve({ appId: 'a', jobId: '1', keys: [] });
    expect(await pool.end('a')).toMatchObject({ ok: true, value: { worker: 'w-1', outcome: 'destroyed' } });
    await quiet();
    expect(lifecycle.workers.has('w-1')).toBe(false);
    expect(pool.status().free).toBe(1);
  });

  it('ends an application idle past idle_timeout', async () => {
    let clock = 1_000_000;
    lifecycle = new MemoryLifecycle();
    const opened = PoolStore.open(join(dir.path, 'jobmgr.db'), 'w-');
    if (!opened.ok) throw new Error(opened.error.message);
    store = opened.value;
    pool = new Pool({
      store,
      lifecycle,
      settings: {
        ...DEFAULT_POOL_SETTINGS,
        namePrefix: 'w-',
        maxVms: 2,
        keepFree: 1,
        idleTimeoutSeconds: 60,
      },
      maintenanceMs: 20,
      now: () => clock,
    });
    await pool.start();
    await pool.reserve({ appId: 'a', jobId: '1', keys: [] });
    await pool.release('a', '1');
    clock += 61_000;
    for (let i = 0; i < 100 && store.app('a') !== undefined; i++) await sleep(10);
    expect(store.app('a')).toBeUndefined();
  });

  it('a failed grant reverts the worker before anyone else gets it', async () => {
    await startPool(
      { maxVms: 2, keepFree: 1 },
      new MemoryLifecycle({ failWhen: (op, name) => op === 'grant' && name === 'w-1' }),
    );
    const refused = await pool.reserve({ appId: 'a', jobId: '1', keys: [] });
    expect(refused.ok ? 'ok' : refused.error.code).toBe('LIFECYCLE_FAILED');
    expect(store.app('a')).toBeUndefined();
    expect(store.worker('w-1')?.state).toBe('ready');
    expect(lifecycle.calls.revert).toBe(1);
  });

  it('a failed clone is destroyed and retried with back-off, never a leaked VM', async () => {
    let failing = true;
    await startPool(
      { maxVms: 2, keepFree: 1 },
      new MemoryLifecycle({ failWhen: (op) => op === 'prepare' && failing }),
    );
    for (let i = 0; i < 100 && (pool.status().buildFailures === 0 || store.total() > 0); i++) await sleep(5);
    // Destroyed, row and VM, and not rebuilt at once: the next try waits for the back-off.
    expect(lifecycle.workers.size).toBe(0);
    expect(store.total()).toBe(0);
    expect(pool.status().buildFailures).toBe(1);
    expect(lifecycle.calls.clone).toBe(1);
    failing = false;
    for (let i = 0; i < 400 && pool.status().free === 0; i++) await sleep(10);
    expect(pool.status().free).toBe(1);
  });

  it('drain destroys free workers and refuses new applications; fill reopens', async () => {
    await startPool({ maxVms: 3, keepFree: 2 });
    await quiet();
    await pool.reserve({ appId: 'a', jobId: '1', keys: [] });
    await quiet();
    expect(await pool.drain()).toBe(2);
    expect(await pool.reserve({ appId: 'b', jobId: '1', keys: [] })).toMatchObject({
      ok: false,
      error: { code: 'POOL_CLOSED' },
    });
    expect((await pool.reserve({ appId: 'a', jobId: '2', keys: [] })).ok).toBe(true);
    expect(lifecycle.workers.size).toBe(1);
    expect(pool.reopen()).toBe(2);
  });

  it('reconcile: unknown pool-named VMs destroyed, foreign ones kept, half-prepared resumed, granting rolled back', async () => {
    await startPool({ maxVms: 4, keepFree: 2 });
    await quiet();
    await pool.reserve({ appId: 'kept', jobId: '1', keys: [] });
    await pool.close(1000);
    // What a crash leaves: a half-prepared worker, a reserve cut before its grant, a stray VM.
    store.transition('w-2', ['ready'], 'preparing', Date.now());
    const cut = store.claimFree('cut', [], Date.now())?.name; // w-3: reserved, its grant never finished
    const cloning = store.addWorker(Date.now()); // w-4 was being cloned: no VM yet
    const fourth = store.addWorker(Date.now());
    store.transition(fourth, ['cloning'], 'booting', Date.now());
    store.transition(fourth, ['booting'], 'preparing', Date.now());
    store.markPrepared(fourth, { ssh: { host: '127.0.0.1', port: 1 }, hostKeys: [] }, Date.now());
    lifecycle.addStray(fourth);
    lifecycle.addStray('w-77');
    lifecycle.addStray('by-hand');
    pool = new Pool({
      store,
      lifecycle,
      settings: { ...DEFAULT_POOL_SETTINGS, namePrefix: 'w-', maxVms: 4, keepFree: 2 },
    });
    const report = await pool.start();
    if (!report.ok) throw new Error(report.error.message);
    expect(report.value).toMatchObject({
      kept: ['w-1', fourth],
      resumed: ['w-2'],
      rolledBack: [cut],
      destroyed: ['w-77'],
      forgotten: [cloning],
      foreign: ['by-hand'],
    });
    await quiet();
    expect(store.app('kept')?.worker).toBe('w-1');
    expect(store.app('cut')).toBeUndefined();
    expect(lifecycle.workers.has('w-77')).toBe(false);
    expect(lifecycle.workers.has('by-hand')).toBe(true);
    expect(store.checkInvariants()).toEqual([]);
    const retried = await pool.reserve({ appId: 'cut', jobId: '1', keys: [] });
    expect(retried.ok).toBe(true);
  });
});

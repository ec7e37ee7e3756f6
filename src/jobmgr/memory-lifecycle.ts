import { setTimeout as sleep } from 'node:timers/promises';
import { err, ok, type Result } from '../common/result.js';
import type { LifecycleError, LifecycleOptions, WorkerLifecycle, WorkerPresence } from './lifecycle.js';
import type { ApplicationKey, PreparedWorker } from './state/rows.js';

/**
 * Workers that exist only in this process: the stress test drives the pool's real state machine,
 * real SQLite and the real socket through it, at a speed no VM allows. It checks the contract the
 * pool relies on (never two operations on one worker at once, grants only on a clean worker) and
 * records every breach in `violations`, so a test can assert there were none.
 */
export interface MemoryLifecycleOptions {
  /** Simulated duration of each operation (ms; default 0: the next turn of the event loop). */
  readonly delayMs?: Partial<Record<Operation, number>>;
  /** Makes the named operation fail for the names it returns true for. */
  readonly failWhen?: (operation: Operation, name: string) => boolean;
}

export type Operation = 'clone' | 'boot' | 'prepare' | 'grant' | 'revoke' | 'revert' | 'destroy';

interface MemoryWorker {
  running: boolean;
  prepared: boolean;
  /** Application keys installed since the clean snapshot, by application. */
  keys: Map<string, readonly ApplicationKey[]>;
  busy: boolean;
}

export class MemoryLifecycle implements WorkerLifecycle {
  readonly workers = new Map<string, MemoryWorker>();
  readonly violations: string[] = [];
  readonly calls: Record<Operation, number> = {
    clone: 0,
    boot: 0,
    prepare: 0,
    grant: 0,
    revoke: 0,
    revert: 0,
    destroy: 0,
  };
  private nextPort = 20_000;
  /** The most workers that existed at once. */
  peak = 0;

  constructor(private readonly options: MemoryLifecycleOptions = {}) {}

  private async step<T>(
    operation: Operation,
    name: string,
    work: (w: MemoryWorker | undefined) => Result<T, LifecycleError>,
    options: LifecycleOptions = {},
  ): Promise<Result<T, LifecycleError>> {
    this.calls[operation] += 1;
    const before = this.workers.get(name);
    if (before?.busy === true) this.violations.push(`${operation} on ${name} while another operation runs`);
    if (before !== undefined) before.busy = true;
    try {
      await sleep(
        this.options.delayMs?.[operation] ?? 0,
        undefined,
        options.signal ? { signal: options.signal } : {},
      );
    } catch {
      if (before !== undefined) before.busy = false;
      return err({ code: 'ABORTED', message: `${operation} of ${name} aborted` });
    } finally {
      if (before !== undefined) before.busy = false;
    }
    if (this.options.failWhen?.(operation, name) === true)
      return err({ code: 'HYPERVISOR_FAILED', message: `${operation} of ${name} failed (injected)` });
    return work(this.workers.get(name));
  }

  clone(name: string, options?: LifecycleOptions): Promise<Result<void, LifecycleError>> {
    return this.step(
      'clone',
      name,
      (w) => {
        if (w !== undefined) return err({ code: 'WORKER_EXISTS', message: `worker ${name} already exists` });
        this.workers.set(name, { running: false, prepared: false, keys: new Map(), busy: false });
        this.peak = Math.max(this.peak, this.workers.size);
        return ok(undefined);
      },
      options,
    );
  }

  boot(name: string, options?: LifecycleOptions): Promise<Result<void, LifecycleError>> {
    return this.step(
      'boot',
      name,
      (w) => (w === undefined ? missing(name) : ((w.running = true), ok(undefined))),
      options,
    );
  }

  prepare(name: string, options?: LifecycleOptions): Promise<Result<PreparedWorker, LifecycleError>> {
    return this.step(
      'prepare',
      name,
      (w) => {
        if (w === undefined) return missing(name);
        if (!w.running) return err({ code: 'WORKER_NOT_RUNNING', message: `${name} is not running` });
        w.prepared = true;
        w.keys.clear();
        return ok({ ssh: { host: '127.0.0.1', port: this.nextPort++ }, hostKeys: [`ssh-ed25519 ${name}`] });
      },
      options,
    );
  }

  grantApplication(
    name: string,
    appId: string,
    keys: readonly ApplicationKey[],
    options?: LifecycleOptions,
  ): Promise<Result<void, LifecycleError>> {
    return this.step(
      'grant',
      name,
      (w) => {
        if (w === undefined) return missing(name);
        if (!w.prepared) this.violations.push(`grant on ${name} before it was prepared`);
        const others = [...w.keys.keys()].filter((a) => a !== appId);
        if (others.length > 0)
          this.violations.push(`${name} granted to ${appId} while it holds ${others.join(', ')}`);
        w.keys.set(appId, [...keys]);
        return ok(undefined);
      },
      options,
    );
  }

  revokeApplication(
    name: string,
    appId: string,
    options?: LifecycleOptions,
  ): Promise<Result<void, LifecycleError>> {
    return this.step(
      'revoke',
      name,
      (w) => (w === undefined ? missing(name) : (w.keys.delete(appId), ok(undefined))),
      options,
    );
  }

  revert(name: string, options?: LifecycleOptions): Promise<Result<void, LifecycleError>> {
    return this.step(
      'revert',
      name,
      (w) => (w === undefined ? missing(name) : (w.keys.clear(), (w.running = true), ok(undefined))),
      options,
    );
  }

  destroy(name: string, options?: LifecycleOptions): Promise<Result<void, LifecycleError>> {
    return this.step('destroy', name, () => (this.workers.delete(name), ok(undefined)), options);
  }

  list(): Promise<Result<readonly WorkerPresence[], LifecycleError>> {
    return Promise.resolve(ok([...this.workers].map(([name, w]) => ({ name, running: w.running }))));
  }

  /** Simulates a VM the pool never made (reconcile must deal with it). */
  addStray(name: string, running = true): void {
    this.workers.set(name, { running, prepared: false, keys: new Map(), busy: false });
  }
}

function missing(name: string): Result<never, LifecycleError> {
  return err({ code: 'WORKER_NOT_FOUND', message: `no worker ${name}` });
}

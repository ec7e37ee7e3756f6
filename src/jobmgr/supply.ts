import { FILL_RETRY_MAX_MS, FILL_RETRY_MIN_MS } from './limits.js';
import type { PoolSettings } from './settings.js';
import type { PoolStore } from './state/store.js';

/**
 * Keeps `keep_free` prepared workers ahead of demand (plus one per waiting reserve), never above
 * `max_vms`. What exists is read from the state rows each time, so nothing here can drift from
 * the database; the only memory is the back-off after failed builds, so a broken template or
 * hypervisor is retried at a falling rate instead of in a hot loop.
 */
export class Supply {
  private failures = 0;
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private boost: number;

  constructor(
    private readonly store: PoolStore,
    private readonly settings: PoolSettings,
    private readonly now: () => number,
    /** Starts building one new worker (its row already exists, in `cloning`). */
    private readonly build: (name: string) => void,
  ) {
    this.boost = settings.cloneAtStart;
  }

  /** Builds what is missing; `waiting` reserves count as demand beyond keep_free. */
  fill(waiting: number): number {
    const counts = this.store.countByState();
    const coming = counts.cloning + counts.booting + counts.preparing;
    const wanted = Math.max(this.settings.keepFree, this.boost) + waiting;
    this.boost = 0;
    let missing = wanted - counts.ready - coming;
    if (missing <= 0) return 0;
    const wait = this.retryAt - this.now();
    if (wait > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.onRetry?.();
      }, wait).unref();
      return 0;
    }
    let total = this.store.total();
    let started = 0;
    while (missing > 0 && total < this.settings.maxVms) {
      this.build(this.store.addWorker(this.now()));
      missing -= 1;
      total += 1;
      started += 1;
    }
    return started;
  }

  /** Called when the back-off timer fires (the pool calls fill again with its waiters). */
  onRetry: (() => void) | undefined;

  built(ok: boolean): void {
    if (ok) {
      this.failures = 0;
      this.retryAt = 0;
      return;
    }
    this.failures += 1;
    const backoff = Math.min(FILL_RETRY_MAX_MS, FILL_RETRY_MIN_MS * 2 ** Math.min(this.failures - 1, 20));
    this.retryAt = this.now() + backoff;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Reserves waiting for a prepared worker, first come first served. When a worker becomes free the
 * pool wakes the first waiter; it tries to claim (a synchronous SQLite transaction) and, if
 * another request got there first, goes back to the front of the queue. A waiter leaves at its
 * deadline or when the pool closes.
 */
interface Waiter {
  wake(outcome: WaitOutcome): void;
}

export type WaitOutcome = 'woken' | 'deadline' | 'closed';

export class FreeWaiters {
  private queue: Waiter[] = [];

  get length(): number {
    return this.queue.length;
  }

  wait(deadline: number, now: number, front = false): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish('deadline'), Math.max(0, deadline - now));
      const waiter: Waiter = { wake: (outcome) => finish(outcome) };
      const finish = (outcome: WaitOutcome): void => {
        clearTimeout(timer);
        this.queue = this.queue.filter((w) => w !== waiter);
        resolve(outcome);
      };
      if (front) this.queue.unshift(waiter);
      else this.queue.push(waiter);
    });
  }

  /** Wakes up to `count` waiters, oldest first. */
  wake(count = 1): void {
    for (const waiter of this.queue.slice(0, count)) waiter.wake('woken');
  }

  closeAll(): void {
    for (const waiter of [...this.queue]) waiter.wake('closed');
  }
}

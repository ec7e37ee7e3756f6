/** Promises in flight, so a shutdown can wait for them (and a test can know the pool is quiet). */
export class TaskSet {
  private readonly running = new Set<Promise<unknown>>();

  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const forget = (): void => {
      this.running.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  get size(): number {
    return this.running.size;
  }

  /** Waits until nothing runs (work started meanwhile included); false if `timeoutMs` passed first. */
  async settle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>(
        (resolve) => (timer = setTimeout(() => resolve('timeout'), left)),
      );
      const outcome = await Promise.race([Promise.allSettled([...this.running]), timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') return this.running.size === 0;
    }
    return true;
  }
}

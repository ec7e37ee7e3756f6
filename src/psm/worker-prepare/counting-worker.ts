import type { Worker } from '../../guest-ops/guest-ops.js';

/** One kind of guest operation: how often prepare used it and how long it took in all. */
export interface GuestOperationCount {
  readonly operation: string;
  readonly count: number;
  readonly ms: number;
}

const COUNTED = [
  'powerOn',
  'status',
  'waitForAgent',
  'readAddress',
  'renewAddress',
  'copyToGuest',
  'copyFromGuest',
  'runProgram',
  'takeSnapshot',
  'revertToSnapshot',
  'powerOff',
] as const;

/**
 * The same worker, with every guest operation counted and timed (for prepare's report and the
 * bench). It only measures: arguments and results pass through unchanged.
 */
export function countingWorker(worker: Worker): { worker: Worker; counts: () => GuestOperationCount[] } {
  const totals = new Map<string, { count: number; ms: number }>();
  const counted: Record<string, unknown> = {};
  for (const name of COUNTED) {
    const method = worker[name] as (...args: unknown[]) => Promise<unknown>;
    counted[name] = async (...args: unknown[]) => {
      const start = performance.now();
      try {
        return await method.apply(worker, args);
      } finally {
        const total = totals.get(name) ?? { count: 0, ms: 0 };
        totals.set(name, { count: total.count + 1, ms: total.ms + performance.now() - start });
      }
    };
  }
  const wrapped: Worker = {
    get name() {
      return worker.name;
    },
    close: () => worker.close(),
    ...(counted as Omit<Worker, 'name' | 'close'>),
  };
  return {
    worker: wrapped,
    counts: () => [...totals].map(([operation, t]) => ({ operation, count: t.count, ms: Math.round(t.ms) })),
  };
}

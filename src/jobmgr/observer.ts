import type { LifecycleOperation } from './worker-ops.js';

/**
 * What the pool reports as it works, for the daemon's metrics (src/jobmgr/daemon/metrics.ts).
 * The pool knows nothing of Prometheus; a test can count the same events.
 */
export interface PoolObserver {
  /** A lifecycle call finished; `errorCode` is set when it failed. */
  operation(operation: LifecycleOperation, errorCode: string | undefined, ms: number): void;
  /** A reserve answered: `warm` when a prepared worker was free or the application had one. */
  reserve(outcome: 'warm' | 'cold' | 'error', ms: number): void;
  /** A worker went back to its clean snapshot for a new application, or was destroyed at its end. */
  rotation(kind: 'revert' | 'destroy'): void;
}

export const SILENT_OBSERVER: PoolObserver = {
  operation: () => undefined,
  reserve: () => undefined,
  rotation: () => undefined,
};

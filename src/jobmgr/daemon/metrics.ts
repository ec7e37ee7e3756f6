import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolObserver } from '../observer.js';
import type { Pool } from '../pool.js';
import { WORKER_STATES } from '../state/schema.js';
import type { LifecycleOperation } from '../worker-ops.js';

/**
 * GET /metrics: Prometheus text from a registry of the daemon's own (never prom-client's global
 * one, so two daemons in one test process do not share counters). The worker gauges are read from
 * the state database at scrape time, so they can never disagree with it.
 */
export class DaemonMetrics implements PoolObserver {
  readonly registry = new Registry();
  private readonly reserveSeconds: Histogram<'outcome'>;
  private readonly operationErrors: Counter<'operation' | 'code'>;
  private readonly operationSeconds: Histogram<'operation'>;
  private readonly rotations: Counter<'kind'>;
  readonly httpRequests: Counter<'route' | 'status'>;

  constructor(pool: () => Pool | undefined) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'psm_daemon_' });
    new Gauge({
      name: 'psm_pool_workers',
      help: 'Workers in the pool by state',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = pool()?.store.countByState();
        for (const state of WORKER_STATES) this.set({ state }, counts?.[state] ?? 0);
      },
    });
    new Gauge({
      name: 'psm_pool_free_workers',
      help: 'Prepared workers no application holds (derived from the state rows)',
      registers,
      collect() {
        this.set(pool()?.store.freeCount() ?? 0);
      },
    });
    new Gauge({
      name: 'psm_pool_applications',
      help: 'Applications holding a worker',
      registers,
      collect() {
        this.set(pool()?.status().apps ?? 0);
      },
    });
    this.reserveSeconds = new Histogram({
      name: 'psm_reserve_duration_seconds',
      help: 'Time from a reserve request to its answer',
      labelNames: ['outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 15, 60],
      registers,
    });
    this.operationSeconds = new Histogram({
      name: 'psm_worker_operation_duration_seconds',
      help: 'Duration of guest operations on workers (clone, boot, prepare, grant, revoke, revert, destroy)',
      labelNames: ['operation'],
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    });
    this.operationErrors = new Counter({
      name: 'psm_guest_operation_errors_total',
      help: 'Failed guest operations by operation and error code',
      labelNames: ['operation', 'code'],
      registers,
    });
    this.rotations = new Counter({
      name: 'psm_worker_rotations_total',
      help: 'Workers returned clean to the pool (revert) or destroyed at the end of an application',
      labelNames: ['kind'],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'psm_daemon_http_requests_total',
      help: 'Requests answered, by route and status',
      labelNames: ['route', 'status'],
      registers,
    });
  }

  operation(operation: LifecycleOperation, errorCode: string | undefined, ms: number): void {
    this.operationSeconds.observe({ operation }, ms / 1000);
    if (errorCode !== undefined) this.operationErrors.inc({ operation, code: errorCode });
  }

  reserve(outcome: 'warm' | 'cold' | 'error', ms: number): void {
    this.reserveSeconds.observe({ outcome }, ms / 1000);
  }

  rotation(kind: 'revert' | 'destroy'): void {
    this.rotations.inc({ kind });
  }
}

import type { Logger } from '../common/logger.js';
import type { WorkerLifecycle } from './lifecycle.js';
import type { PoolObserver } from './observer.js';
import type { PoolSettings } from './settings.js';
import type { ApplicationKey, SshEndpoint } from './state/rows.js';
import type { WorkerState } from './state/schema.js';
import type { PoolStore } from './state/store.js';

/** What the pool takes and answers (src/jobmgr/pool.ts). */
export interface PoolDeps {
  readonly store: PoolStore;
  readonly lifecycle: WorkerLifecycle;
  readonly settings: PoolSettings;
  readonly log?: Logger;
  readonly observer?: PoolObserver;
  readonly now?: () => number;
  /** How often idle applications and failed workers are looked at (ms). */
  readonly maintenanceMs?: number;
}

export interface ReserveRequest {
  readonly appId: string;
  readonly jobId: string;
  readonly keys: readonly ApplicationKey[];
  /** How long to wait for a free prepared worker (default DEFAULT_RESERVE_WAIT_MS). */
  readonly waitMs?: number;
}

export interface Assignment {
  readonly app: string;
  readonly job: string;
  readonly worker: string;
  readonly ssh: SshEndpoint | undefined;
  readonly hostKeys: readonly string[];
  /** False when the reserve had to wait for a worker to be made or freed. */
  readonly warm: boolean;
}

export interface PoolStatus {
  readonly settings: PoolSettings;
  readonly workers: Record<WorkerState, number>;
  readonly total: number;
  readonly free: number;
  readonly apps: number;
  readonly waiting: number;
  readonly draining: boolean;
  readonly closed: boolean;
  readonly buildFailures: number;
}

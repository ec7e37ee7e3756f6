import { ok, type Result } from '../common/result.js';
import { jobFail, type JobMgrError } from './errors.js';
import { MAX_IDLE_TIMEOUT_SECONDS, MAX_POOL_VMS } from './limits.js';

export type OnAppEnd = 'revert' | 'destroy';
export const ON_APP_END: readonly OnAppEnd[] = ['revert', 'destroy'];

/** How the pool behaves: virtual.conf [pool], then the daemon's flags over it. */
export interface PoolSettings {
  /** Most workers at once, in every state (a clone being made counts). */
  readonly maxVms: number;
  /** Prepared workers kept free ahead of demand. */
  readonly keepFree: number;
  /** Clones made when the daemon starts, beyond keep_free (for a burst expected at start). */
  readonly cloneAtStart: number;
  /** An application with no job for this long is ended (seconds; 0: never). */
  readonly idleTimeoutSeconds: number;
  /** What ending an application does to its worker. */
  readonly onAppEnd: OnAppEnd;
  /** Worker names are this prefix plus a number the state database never reuses. */
  readonly namePrefix: string;
}

export const DEFAULT_POOL_SETTINGS: PoolSettings = {
  maxVms: 4,
  keepFree: 2,
  cloneAtStart: 0,
  idleTimeoutSeconds: 3600,
  onAppEnd: 'revert',
  namePrefix: 'popc-worker-',
};

/** Worker names the QEMU driver accepts, less room for the number. */
export const NAME_PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

/** Checks a whole settings object (after flags were applied): the same bounds as virtual.conf. */
export function checkPoolSettings(s: PoolSettings): Result<PoolSettings, JobMgrError> {
  const whole = (v: number, min: number, max: number): boolean =>
    Number.isSafeInteger(v) && v >= min && v <= max;
  if (!whole(s.maxVms, 1, MAX_POOL_VMS))
    return jobFail('INVALID_SETTING', `max_vms must be 1 to ${MAX_POOL_VMS}`);
  if (!whole(s.keepFree, 0, s.maxVms))
    return jobFail('INVALID_SETTING', `keep_free must be 0 to max_vms (${s.maxVms})`);
  if (!whole(s.cloneAtStart, 0, s.maxVms))
    return jobFail('INVALID_SETTING', `clone_at_start must be 0 to max_vms (${s.maxVms})`);
  if (!whole(s.idleTimeoutSeconds, 0, MAX_IDLE_TIMEOUT_SECONDS))
    return jobFail('INVALID_SETTING', `idle_timeout must be 0 to ${MAX_IDLE_TIMEOUT_SECONDS} seconds`);
  if (!ON_APP_END.includes(s.onAppEnd))
    return jobFail('INVALID_SETTING', 'on_app_end must be "revert" or "destroy"');
  if (!NAME_PREFIX_PATTERN.test(s.namePrefix))
    return jobFail('INVALID_SETTING', `the worker name prefix must match ${NAME_PREFIX_PATTERN.source}`);
  return ok(s);
}

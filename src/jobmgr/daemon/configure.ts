import { ok, type Result } from '../../common/result.js';
import { openDriver, openTemplate } from '../../guest-ops/driver-factory.js';
import type { GuestOpsError } from '../../guest-ops/errors.js';
import { loadConfig } from '../../vault/config.js';
import type { VaultError } from '../../vault/errors.js';
import type { JobMgrError } from '../errors.js';
import { GuestOpsLifecycle, type GuestOpsLifecycleSteps } from '../guest-ops-lifecycle.js';
import { INTERIM_STEPS } from '../interim-steps.js';
import { DAEMON_VM_LOCK_WAIT_MS } from '../limits.js';
import { checkPoolSettings, DEFAULT_POOL_SETTINGS, type PoolSettings } from '../settings.js';

export type PoolOverrides = Partial<Omit<PoolSettings, 'namePrefix'>>;

export interface ConfiguredPool {
  readonly settings: PoolSettings;
  /** False when the location has no virtual.conf: the defaults (and the flags) apply. */
  readonly fromConfig: boolean;
}

/**
 * The pool's settings: virtual.conf's [pool] (and worker.name_prefix) when the location has one,
 * else psm's defaults; the daemon's flags over either; the result checked as a whole (keep_free
 * at most max_vms, ...). A virtual.conf that exists but does not validate stops the daemon.
 */
export async function poolSettingsFor(
  location: string,
  overrides: PoolOverrides,
): Promise<Result<ConfiguredPool, VaultError | JobMgrError>> {
  const conf = await loadConfig(location);
  if (!conf.ok && conf.error.code !== 'CONFIG_MISSING') return conf;
  const base: PoolSettings = conf.ok
    ? {
        ...DEFAULT_POOL_SETTINGS,
        ...conf.value.pool,
        namePrefix: conf.value.worker.namePrefix,
      }
    : DEFAULT_POOL_SETTINGS;
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const merged = { ...base, ...defined } as PoolSettings;
  // A keep_free from the file above a lowered --max-vms follows the flag down.
  const settings =
    overrides.maxVms !== undefined && overrides.keepFree === undefined
      ? {
          ...merged,
          keepFree: Math.min(merged.keepFree, merged.maxVms),
          cloneAtStart: Math.min(merged.cloneAtStart, merged.maxVms),
        }
      : merged;
  const checked = checkPoolSettings(settings);
  return checked.ok ? ok({ settings: checked.value, fromConfig: conf.ok }) : checked;
}

export interface QemuPoolOptions {
  readonly vmDirectory: string;
  readonly imageDirectory: string;
  readonly memoryMiB?: number;
  /** prepareWorker and the key exchange, once they are wired; the interim steps otherwise. */
  readonly steps?: GuestOpsLifecycleSteps;
}

/** The real lifecycle: QEMU workers cloned from a worker image directory. */
export async function openQemuLifecycle(
  options: QemuPoolOptions,
): Promise<Result<GuestOpsLifecycle, GuestOpsError>> {
  const driver = await openDriver({
    kind: 'qemu',
    vmDirectory: options.vmDirectory,
    ...(options.memoryMiB === undefined ? {} : { memoryMiB: options.memoryMiB }),
    lockWaitMs: DAEMON_VM_LOCK_WAIT_MS,
  });
  if (!driver.ok) return driver;
  const template = await openTemplate({ kind: 'worker-image', directory: options.imageDirectory });
  if (!template.ok) return template;
  return ok(
    new GuestOpsLifecycle({
      driver: driver.value,
      template: template.value,
      ...(options.steps ?? INTERIM_STEPS),
    }),
  );
}

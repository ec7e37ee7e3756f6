import type { Logger } from '../common/logger.js';
import type { WorkerLifecycle } from './lifecycle.js';
import type { WorkerRow } from './state/rows.js';
import type { PoolStore } from './state/store.js';

/**
 * The host keys a reserve names: the ones psm pins for the worker now. `psm rotate-keys
 * --host-keys` gives a free worker new keys without the daemon (found by `npm run demo`: the
 * reserve answered the keys of the worker's preparation, which it no longer presents), so the
 * pins are read again and the state follows them. A pin store that cannot be read keeps the
 * state's keys and is logged.
 */
export async function currentHostKeys(
  lifecycle: WorkerLifecycle,
  store: PoolStore,
  row: WorkerRow,
  log: Logger,
): Promise<readonly string[]> {
  if (lifecycle.pinnedHostKeys === undefined) return row.hostKeys;
  const pinned = await lifecycle.pinnedHostKeys(row.name);
  if (!pinned.ok) {
    log.warn('pinned host keys unreadable; answering the prepared ones', {
      worker: row.name,
      code: pinned.error.code,
    });
    return row.hostKeys;
  }
  if (JSON.stringify(pinned.value) !== JSON.stringify(row.hostKeys))
    store.setHostKeys(row.name, pinned.value);
  return pinned.value;
}

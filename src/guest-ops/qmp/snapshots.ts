import { ok, type Result } from '../../common/result.js';
import { fail, type GuestOpsError } from '../errors.js';
import { printable } from '../qga/replies.js';
import type { QmpCallOptions, QmpClient } from './client.js';
import { decodeQueryStatus } from './messages.js';
import { isRecord } from '../wire/untrusted-json.js';

/**
 * The clean snapshot through HMP `savevm` / `loadvm` (internal qcow2 snapshots of the clone's
 * overlay, RAM and device state included). QEMU 7.2 also has the snapshot-save/-load jobs, but
 * they need node names and job polling for the same result; HMP is synchronous and what QEMU's
 * own tests use. The name is interpolated into an HMP command line, so it is validated to
 * [A-Za-z0-9_-] first: no space, quote or anything else HMP would parse.
 */

export const SNAPSHOT_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** savevm writes guest RAM (256 MiB) into the overlay; generous for a slow disk. */
export const DEFAULT_SNAPSHOT_TIMEOUT_MS = 120_000;

export function isValidSnapshotName(name: string): boolean {
  return SNAPSHOT_NAME_PATTERN.test(name);
}

export function saveSnapshot(
  qmp: QmpClient,
  name: string,
  options: QmpCallOptions = {},
): Promise<Result<void, GuestOpsError>> {
  return hmpSnapshot(qmp, 'savevm', name, options);
}

/**
 * HMP loadvm stops the VM first and only restarts it when loading worked: a failed revert (an
 * unknown snapshot name, say) would leave a running worker paused. It is resumed here.
 */
export async function loadSnapshot(
  qmp: QmpClient,
  name: string,
  options: QmpCallOptions = {},
): Promise<Result<void, GuestOpsError>> {
  if (!isValidSnapshotName(name)) return hmpSnapshot(qmp, 'loadvm', name, options);
  const before = await qmp.execute('query-status', undefined, options);
  const wasRunning =
    before.ok &&
    decodeQueryStatus(before.value).ok &&
    isRecord(before.value) &&
    before.value.running === true;
  const loaded = await hmpSnapshot(qmp, 'loadvm', name, options);
  if (!loaded.ok && wasRunning) await qmp.execute('cont', undefined, { timeoutMs: 5_000 });
  return loaded;
}

async function hmpSnapshot(
  qmp: QmpClient,
  verb: 'savevm' | 'loadvm',
  name: string,
  options: QmpCallOptions,
): Promise<Result<void, GuestOpsError>> {
  if (!isValidSnapshotName(name))
    return fail('INVALID_ARGUMENT', 'a snapshot name is 1-64 characters from A-Z, a-z, 0-9, _ and -');
  const result = await qmp.execute(
    'human-monitor-command',
    { 'command-line': `${verb} ${name}` },
    {
      timeoutMs: options.timeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  if (!result.ok)
    return fail(result.error.code === 'TIMEOUT' ? 'TIMEOUT' : 'SNAPSHOT_FAILED', result.error.message);
  // HMP reports failures as text output; success prints nothing.
  if (typeof result.value !== 'string')
    return fail('HYPERVISOR_PROTOCOL', `${verb} returned something other than text`);
  const output = result.value.trim();
  if (output.length > 0) return fail('SNAPSHOT_FAILED', `${verb} ${name}: ${printable(output)}`);
  return ok(undefined);
}

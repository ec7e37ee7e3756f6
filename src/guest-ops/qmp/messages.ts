import { err, ok, type Result } from '../../common/result.js';
import { printable } from '../qga/replies.js';
import { hasOnlyKeys, isRecord, isSafeInt, parseJsonLine } from '../wire/untrusted-json.js';

/**
 * QMP messages from QEMU, parsed strictly. QEMU is on psm's side of the trust line, but its
 * socket is a file a local user might have replaced, and a parser that never throws costs nothing.
 */

/** QMP replies are small (query-status, HMP output); events are smaller still. */
export const MAX_QMP_LINE_BYTES = 1024 * 1024;

export type QmpMessage =
  | { readonly kind: 'greeting'; readonly version: string }
  | { readonly kind: 'return'; readonly id: unknown; readonly value: unknown }
  | { readonly kind: 'error'; readonly id: unknown; readonly errorClass: string; readonly desc: string }
  | { readonly kind: 'event'; readonly event: string; readonly data: unknown };

export function parseQmpMessage(bytes: Uint8Array): Result<QmpMessage, string> {
  const parsed = parseJsonLine(bytes);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isRecord(value)) return err('the message is not a JSON object');
  if ('QMP' in value) {
    const qmp = value.QMP;
    if (!isRecord(qmp) || !isRecord(qmp.version) || !isRecord(qmp.version.qemu))
      return err('the greeting has no version');
    const { major, minor, micro } = qmp.version.qemu;
    if (!isSafeInt(major) || !isSafeInt(minor) || !isSafeInt(micro))
      return err('the greeting version is not numeric');
    return ok({ kind: 'greeting', version: `${major}.${minor}.${micro}` });
  }
  if ('event' in value) {
    if (typeof value.event !== 'string' || !/^[A-Z0-9_]{1,64}$/.test(value.event))
      return err('bad event name');
    if (!hasOnlyKeys(value, ['event', 'data', 'timestamp'])) return err('the event has unknown keys');
    return ok({ kind: 'event', event: value.event, data: value.data });
  }
  if ('return' in value) {
    if (!hasOnlyKeys(value, ['return', 'id'])) return err('the reply has unknown keys');
    return ok({ kind: 'return', id: value.id, value: value.return });
  }
  if ('error' in value) {
    if (!hasOnlyKeys(value, ['error', 'id'])) return err('the reply has unknown keys');
    const e = value.error;
    if (!isRecord(e) || typeof e.class !== 'string' || typeof e.desc !== 'string')
      return err('the error has no class and desc');
    return ok({ kind: 'error', id: value.id, errorClass: printable(e.class), desc: printable(e.desc) });
  }
  return err('not a QMP greeting, reply or event');
}

export type RunState = 'running' | 'paused' | 'shutdown' | 'other';

export interface VmRunStatus {
  readonly running: boolean;
  /** QEMU's RunState ("running", "paused", "prelaunch", "shutdown", "suspended", ...). */
  readonly status: string;
}

/** query-status: {running, singlestep?, status}. */
export function decodeQueryStatus(value: unknown): Result<VmRunStatus, string> {
  if (!isRecord(value) || typeof value.running !== 'boolean' || typeof value.status !== 'string')
    return err('query-status did not return {running, status}');
  if (!/^[a-z-]{1,32}$/.test(value.status)) return err('query-status returned a strange status');
  return ok({ running: value.running, status: value.status });
}

/** query-kvm: {enabled, present}. */
export function decodeQueryKvm(value: unknown): Result<boolean, string> {
  if (!isRecord(value) || typeof value.enabled !== 'boolean')
    return err('query-kvm did not return {enabled}');
  return ok(value.enabled);
}

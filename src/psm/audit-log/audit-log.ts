import { userInfo } from 'node:os';
import { err, type Result } from '../../common/result.js';
import type { KeyOptions } from '../../vault/index.js';
import { appendEntries, type AppendResult } from './append.js';
import type { AuditActor, AuditSubject } from './entry.js';
import { auditError, type AuditLogError } from './errors.js';
import { openAuditKeys, type AuditKeys } from './keys.js';
import { verifyAuditFiles } from './verify-file.js';
import type { AuditLogReport } from './verify-text.js';

/** What a module records: what was done (`area.verb`) and to what (names, fingerprints). */
export interface AuditEntryInput {
  readonly action: string;
  readonly subject: AuditSubject;
  /** Default: the OS account psm runs as (sudo callers show as root; sudo's own log names them). */
  readonly actor?: AuditActor;
}

export function defaultActor(): AuditActor {
  let user = 'unknown';
  try {
    const name = userInfo().username;
    if (/^[A-Za-z0-9._@-]{1,64}$/.test(name)) user = name;
  } catch {
    // no passwd entry for this uid: the uid still says who
  }
  return { user, uid: process.getuid?.() ?? -1, pid: process.pid };
}

/** An open audit log: the keys stay in memory until close(), so a command appends many times cheaply. */
export interface AuditLog {
  append(entry: AuditEntryInput): Promise<Result<AppendResult, AuditLogError>>;
  /** Several entries with one write, one fsync and one checkpoint. */
  appendAll(entries: readonly AuditEntryInput[]): Promise<Result<AppendResult, AuditLogError>>;
  verify(): Promise<Result<AuditLogReport, AuditLogError>>;
  /** Removes a torn last line left by a crash (only when everything else verifies), on the record. */
  repair(): Promise<Result<AppendResult, AuditLogError>>;
  close(): void;
}

export function auditLogWithKeys(location: string, keys: AuditKeys): AuditLog {
  let closed = false;
  const live = (): void => {
    if (closed) throw new Error('bug: the audit log was used after close()');
  };
  const appendAll = (entries: readonly AuditEntryInput[]) => {
    live();
    const time = new Date();
    return appendEntries(
      keys,
      location,
      entries.map((e) => ({ action: e.action, subject: e.subject, actor: e.actor ?? defaultActor(), time })),
    );
  };
  return {
    append: (entry) => appendAll([entry]),
    appendAll,
    verify: () => {
      live();
      return verifyAuditFiles(keys, location);
    },
    async repair() {
      live();
      const report = await verifyAuditFiles(keys, location);
      if (!report.ok) return report;
      if (report.value.tornBytes > 0 && !report.value.repairable)
        return err(
          auditError(
            'AUDIT_TAMPERED',
            'the log has other findings besides the torn last line: not repairing it',
          ),
        );
      return appendEntries(keys, location, [], { actor: defaultActor(), time: new Date() });
    },
    close() {
      if (!closed) keys.close();
      closed = true;
    },
  };
}

/** Opens the log of `location`, taking its key from the vault (made there on first use unless `create: false`). */
export async function openAuditLog(
  location: string,
  options: KeyOptions = {},
  access: { readonly create?: boolean; readonly lockWaitMs?: number } = {},
): Promise<Result<AuditLog, AuditLogError>> {
  const keys = await openAuditKeys(location, options, access.create ?? true, access.lockWaitMs);
  if (!keys.ok) return keys;
  return { ok: true, value: auditLogWithKeys(location, keys.value) };
}

/** One entry, for modules that record a single act (vault set/rekey, policy render, ...). */
export async function appendAuditEntry(
  location: string,
  entry: AuditEntryInput,
  options: KeyOptions = {},
): Promise<Result<AppendResult, AuditLogError>> {
  const log = await openAuditLog(location, options);
  if (!log.ok) return log;
  try {
    return await log.value.append(entry);
  } finally {
    log.value.close();
  }
}

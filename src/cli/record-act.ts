import type { AuditEntryInput, AuditLog } from '../psm/audit-log/index.js';
import type { KeyOptions } from '../vault/index.js';
import { CliFailure, failureOf } from './failure.js';

/**
 * The audit log for a command that records its act: opened before the act (so an act that could
 * not be recorded is not done at all), appended to after it.
 */
export async function openActLog(
  location: string,
  options: KeyOptions,
  write: { readonly lockWaitMs?: number } = {},
): Promise<AuditLog> {
  const { auditLogErrorCategory, openAuditLog } = await import('../psm/audit-log/index.js');
  const log = await openAuditLog(location, options, write);
  if (!log.ok) throw failureOf(log.error, auditLogErrorCategory);
  return log.value;
}

/** Appends the act; a failure says the act was done but not recorded (and fails the command). */
export async function recordAct(log: AuditLog, entry: AuditEntryInput): Promise<void> {
  const { auditLogErrorCategory } = await import('../psm/audit-log/index.js');
  const done = await log.append(entry);
  if (!done.ok)
    throw new CliFailure(
      done.error.code,
      `${entry.action} was done but could not be recorded in the audit log: ${done.error.message}`,
      auditLogErrorCategory(done.error.code),
    );
}

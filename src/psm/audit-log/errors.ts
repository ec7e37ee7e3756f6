import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, type CodedError } from '../../common/result.js';

/**
 * Every way the audit log can fail or be found wrong. Appends fail closed with one of these; a
 * verify reports them as findings (each with the line it is about).
 */
export type AuditLogErrorCode =
  /** An entry to append is not valid: bad action name, too large, or a field psm does not accept. */
  | 'AUDIT_BAD_ENTRY'
  /** A subject value looks like key material or a sealed secret: subjects hold names and fingerprints only. */
  | 'AUDIT_SUBJECT_SECRET'
  /** A line is not one canonical JSON entry (bad JSON, wrong fields, not written the way psm writes). */
  | 'AUDIT_LINE_MALFORMED'
  /** An entry's sequence number is not the previous one plus one (removed, reordered, inserted). */
  | 'AUDIT_SEQ_MISMATCH'
  /** An entry's `prev` is not the SHA-256 of the line before it. */
  | 'AUDIT_CHAIN_BROKEN'
  /** An entry's MAC does not verify under the vault's audit key (edited or forged). */
  | 'AUDIT_MAC_INVALID'
  /** The last line has no line break: a write was cut off (a crash), or the file was cut. */
  | 'AUDIT_TORN_TAIL'
  /** There is no checkpoint, but the log has entries (the checkpoint was removed). */
  | 'AUDIT_CHECKPOINT_MISSING'
  /** The checkpoint is malformed, for another log, or its signature does not verify. */
  | 'AUDIT_CHECKPOINT_INVALID'
  /** The log has fewer entries than the checkpoint counts: the newest entries were removed. */
  | 'AUDIT_TRUNCATED'
  /** The entry the checkpoint ends at does not hash to the checkpoint's head. */
  | 'AUDIT_HEAD_MISMATCH'
  /** The log fails verification, so psm refuses to append to it (run psm audit-log verify). */
  | 'AUDIT_TAMPERED'
  /** Another psm process held the log's lock for longer than psm waits. */
  | 'AUDIT_LOCKED'
  /** The audit key could not be taken from the vault (missing, wrong key, locked vault). */
  | 'AUDIT_KEY_UNAVAILABLE'
  /** Reading or writing a file failed (disk full, permissions, ...). */
  | 'AUDIT_IO';

export type AuditLogError = CodedError<AuditLogErrorCode>;

export function auditError(code: AuditLogErrorCode, message: string, line?: number): AuditLogError {
  return line === undefined ? { code, message } : { code, message, line };
}

/**
 * The category of each code (exit code in the CLI, HTTP status in the daemon). Findings in the
 * log are `tampered`: an edited, removed or forged entry is what the chain exists to show. An
 * entry psm itself built wrongly (a caller passing key material) is a bug in psm.
 */
export function auditLogErrorCategory(code: AuditLogErrorCode): ErrorCategory {
  switch (code) {
    case 'AUDIT_BAD_ENTRY':
    case 'AUDIT_SUBJECT_SECRET':
      return 'bug';
    case 'AUDIT_LINE_MALFORMED':
    case 'AUDIT_SEQ_MISMATCH':
    case 'AUDIT_CHAIN_BROKEN':
    case 'AUDIT_MAC_INVALID':
    case 'AUDIT_TORN_TAIL':
    case 'AUDIT_CHECKPOINT_MISSING':
    case 'AUDIT_CHECKPOINT_INVALID':
    case 'AUDIT_TRUNCATED':
    case 'AUDIT_HEAD_MISMATCH':
    case 'AUDIT_TAMPERED':
      return 'tampered';
    case 'AUDIT_LOCKED':
      return 'refused';
    case 'AUDIT_KEY_UNAVAILABLE':
      return 'auth';
    case 'AUDIT_IO':
      return 'outside';
    default:
      return assertNever(code);
  }
}

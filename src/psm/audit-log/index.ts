export {
  appendAuditEntry,
  auditLogWithKeys,
  defaultActor,
  openAuditLog,
  type AuditEntryInput,
  type AuditLog,
} from './audit-log.js';
export { REPAIR_ACTION, type AppendResult } from './append.js';
export { originOf, signCheckpoint, verifyCheckpoint, type Checkpoint } from './checkpoint.js';
export { lineHash, sealEntry, type NewEntry } from './chain.js';
export * from './entry.js';
export { auditError, auditLogErrorCategory, type AuditLogError, type AuditLogErrorCode } from './errors.js';
export { AUDIT_SECRET_PATH, auditKeysFromSecret, openAuditKeys, type AuditKeys } from './keys.js';
export { auditPaths, type AuditPaths } from './layout.js';
export { LOCK_WAIT_MS } from './lock.js';
export {
  MAX_LISTED_FINDINGS,
  verifyLogBytes,
  type AuditFinding,
  type AuditLogReport,
} from './verify-text.js';
export { AUDIT_ACTIONS, type AuditAction } from './actions.js';

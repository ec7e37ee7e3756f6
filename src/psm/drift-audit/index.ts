export { auditWorker, type WorkerAudit } from './audit-worker.js';
export type { AuditContext } from './context.js';
export { driftAuditErrorCategory, type DriftAuditError, type DriftAuditErrorCode } from './errors.js';
export type { DriftFinding, DriftFindingCode } from './findings.js';
export { fixWorker, type FixStep } from './fix.js';
export { runAudit, type AuditRunOptions, type AuditRunReport, type WorkerReport } from './run.js';

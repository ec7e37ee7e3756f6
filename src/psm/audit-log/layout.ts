import { join } from 'node:path';
import { layoutOf } from '../../vault/layout.js';

/** Where the audit log lives under a psm location (var/psm/, mode 700, made by psm init). */
export interface AuditPaths {
  readonly dir: string;
  readonly log: string;
  /** The latest signed checkpoint, outside the log so cutting the log short shows. */
  readonly checkpoint: string;
  readonly lock: string;
}

export function auditPaths(location: string): AuditPaths {
  const dir = layoutOf(location).psmDir;
  return {
    dir,
    log: join(dir, 'audit.log'),
    checkpoint: join(dir, 'audit.checkpoint'),
    lock: join(dir, 'audit.lock'),
  };
}

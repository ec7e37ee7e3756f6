import { readFile } from 'node:fs/promises';
import { err, ok, type Result } from '../../common/result.js';
import { errnoOf } from '../../common/errno.js';
import { auditError, type AuditLogError } from './errors.js';
import type { AuditKeys } from './keys.js';
import { auditPaths } from './layout.js';
import { verifyLogBytes, type AuditLogReport } from './verify-text.js';

/** Reads the log and its checkpoint and verifies both (see verifyLogBytes). */
export async function verifyAuditFiles(
  keys: AuditKeys,
  location: string,
): Promise<Result<AuditLogReport, AuditLogError>> {
  const paths = auditPaths(location);
  const log = await readOptional(paths.log);
  if (!log.ok) return log;
  const checkpoint = await readOptional(paths.checkpoint);
  if (!checkpoint.ok) return checkpoint;
  const text = checkpoint.value === null ? null : checkpoint.value.toString('utf8');
  return ok(verifyLogBytes(keys, log.value ?? new Uint8Array(0), text));
}

async function readOptional(path: string): Promise<Result<Buffer | null, AuditLogError>> {
  try {
    return ok(await readFile(path));
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return ok(null);
    return err(auditError('AUDIT_IO', `cannot read ${path} (${errnoOf(error)})`));
  }
}

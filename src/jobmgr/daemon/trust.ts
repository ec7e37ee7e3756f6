import type { ErrorCategory } from '../../common/error-category.js';
import { err, ok, type Result } from '../../common/result.js';
import { readRegularFile } from '../../common/bounded-read.js';
import { auditLogErrorCategory, openAuditLog, type AuditLog } from '../../psm/audit-log/index.js';
import { keyExchangeErrorCategory, loadRolePolicies } from '../../psm/key-exchange/index.js';
import { loadConfig } from '../../vault/config.js';
import { vaultErrorCategory } from '../../vault/errors.js';
import type { KeyOptions } from '../../vault/index.js';
import { layoutOf } from '../../vault/layout.js';
import type { GuestOpsLifecycleSteps } from '../guest-ops-lifecycle.js';
import { trustedSteps } from '../trusted-steps.js';

/** A failure of one of the modules the trust steps need, with its module's category. */
export interface TrustError {
  readonly code: string;
  readonly message: string;
  readonly category: ErrorCategory;
}

export interface OpenedTrust {
  readonly steps: GuestOpsLifecycleSteps;
  /** The location's audit log (the daemon records run-main requests in it). */
  readonly audit: AuditLog;
  /** Closes the audit log. */
  close(): void;
}

const MAX_PUBLIC_KEY_BYTES = 16 * 1024;

/**
 * The daemon's trust steps from a location made by `psm init`: its virtual.conf (the admin
 * address), its role policies (`etc/psm-policies`), its admin key pair and its audit log (whose
 * key is sealed in the vault, hence `keys`).
 */
export async function openTrust(
  location: string,
  keys: KeyOptions,
): Promise<Result<OpenedTrust, TrustError>> {
  const conf = await loadConfig(location);
  if (!conf.ok) return err({ ...conf.error, category: vaultErrorCategory(conf.error.code) });
  const layout = layoutOf(location);
  const policies = await loadRolePolicies(layout.policiesDir);
  if (!policies.ok)
    return err({ ...policies.error, category: keyExchangeErrorCategory(policies.error.code) });
  const admin = await readRegularFile(`${layout.adminKey}.pub`, MAX_PUBLIC_KEY_BYTES);
  if (!admin.ok)
    return err({
      code: 'ADMIN_KEY_UNREADABLE',
      message: `cannot read ${layout.adminKey}.pub (run psm init)`,
      category: 'unreadable',
    });
  const audit = await openAuditLog(location, keys);
  if (!audit.ok) return err({ ...audit.error, category: auditLogErrorCategory(audit.error.code) });
  const roles = policies.value;
  const steps = trustedSteps({
    prepare: { location, policies: [roles.admin, roles.mainNode, roles.initiator] },
    keyExchange: {
      location,
      policies: roles,
      adminAddress: conf.value.worker.adminAddress,
      audit: audit.value,
    },
    adminPublicKey: Buffer.from(admin.value).toString('utf8').trim(),
  });
  return ok({ steps, audit: audit.value, close: () => audit.value.close() });
}

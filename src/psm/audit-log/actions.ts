/**
 * The names of the acts psm records, one place for every module: an entry's `action` is one of
 * these, its subject holds names and fingerprints only (never key material or secrets).
 */
export const AUDIT_ACTIONS = {
  /** A secret sealed into virtual.conf (subject: path, key id). */
  vaultSet: 'vault.set',
  /** Every sealed value moved to a new master key (subject: old and new key ids). */
  vaultRekey: 'vault.rekey',
  /** A worker host key made by psm (subject: worker, fingerprint, algorithm). */
  hostKeyMade: 'host-key.made',
  /** A worker's host keys pinned in psm's known_hosts (subject: worker, fingerprints). */
  hostKeyPinned: 'host-key.pinned',
  /** Key exchange: admin key installed, application granted or revoked, file written again. */
  keyAdminInstall: 'key-exchange.admin-install',
  keyGrant: 'key-exchange.grant',
  keyRevoke: 'key-exchange.revoke',
  keyReapply: 'key-exchange.reapply',
  keyFailed: 'key-exchange.failed',
  userKey: 'key-exchange.user-key',
  /** psm audit (subject: workers, number of findings, codes) and psm audit --fix. */
  auditRun: 'audit.run',
  auditFix: 'audit.fix',
  /** rotate-keys steps: start, a worker given the new key, the switch, a worker's old key removed, done. */
  rotateStart: 'rotate.start',
  rotateAdd: 'rotate.admin-add',
  rotateSwitch: 'rotate.switch',
  rotateRemove: 'rotate.admin-remove',
  rotateDone: 'rotate.done',
  /** psm run-main asked the daemon for an application's worker (subject: app, worker, object, number of args, run id). */
  runMain: 'run-main.start',
  /** How that run ended, as its CLI reported it (subject: app, worker, object, run, exitCode, signal or error code). */
  runMainEnd: 'run-main.end',
} as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS];

import { AUTHORIZED_KEYS_DIR } from '../../guest-ops/image/guest-etc.js';
import type { Worker } from '../../guest-ops/guest-ops.js';
import { generateGate } from '../gate/index.js';
import { PSM_SSHD_CONFIG_PATH, renderWorkerSshdConfig } from '../host-keys/sshd-config.js';
import {
  readIntendedKeys,
  reapplyIntendedKeys,
  revokeApplication,
  type KeyExchangeSettings,
} from '../key-exchange/index.js';
import { DEFAULT_GATE_DIR } from '../policy/index.js';
import type { WorkerAudit } from './audit-worker.js';
import type { AuditContext } from './context.js';
import type { DriftFindingCode } from './findings.js';

const KEY_FILE_CODES = new Set<DriftFindingCode>([
  'UNKNOWN_KEY',
  'MISSING_KEY',
  'LINE_WITHOUT_RESTRICT',
  'OPTIONS_DIFFER',
  'COMMENT_DIFFERS',
  'DUPLICATE_KEY',
  'INVALID_LINE',
  'FILE_MISSING',
]);
const SSHD = '/usr/sbin/sshd';
const SSHD_PID_FILE = '/run/sshd.pid';

export interface FixStep {
  readonly what: string;
  readonly ok: boolean;
  readonly message?: string;
}

/**
 * Writes psm's intended state back where the audit found drift, through the same paths psm
 * writes it with: the whole authorized_keys from the record (rendered, replaced, read back), the
 * generated gates, the sshd config rendered for the host keys that are pinned (checked with
 * `sshd -t` before sshd is restarted with it), and root ownership of psm's directories. A host
 * key that is not pinned is never "fixed" by pinning it: that needs a new prepare.
 */
export async function fixWorker(
  ctx: AuditContext,
  settings: KeyExchangeSettings,
  worker: Worker,
  audit: WorkerAudit,
): Promise<FixStep[]> {
  const codes = new Set(audit.findings.map((f) => f.code));
  const paths = new Set(
    audit.findings.flatMap((f) => (f.code === 'MODE_OR_OWNER_WRONG' && f.path ? [f.path] : [])),
  );
  const steps: FixStep[] = [];
  const gateDir = ctx.gateDir ?? DEFAULT_GATE_DIR;
  for (const dir of ['/persist', '/persist/etc', '/persist/etc/ssh', AUTHORIZED_KEYS_DIR, gateDir])
    if (paths.has(dir))
      steps.push(
        await run(worker, ctx, `root-only ${dir}`, [
          ['/bin/chown', ['0:0', '--', dir]],
          ['/bin/chmod', ['go-w', '--', dir]],
        ]),
      );
  steps.push(...(await revokeExpired(settings, worker, audit, ctx)));
  const keyFileWrong =
    [...codes].some((c) => KEY_FILE_CODES.has(c)) ||
    [...paths].some((p) => p.startsWith(`${AUTHORIZED_KEYS_DIR}/`));
  if (keyFileWrong) {
    const done = await reapplyIntendedKeys(settings, worker, ctx.ops);
    steps.push({ what: 'authorized_keys', ok: done.ok, ...(done.ok ? {} : { message: done.error.message }) });
  }
  const policies = [ctx.policies.admin, ctx.policies.mainNode, ctx.policies.initiator];
  for (const policy of policies) {
    if (
      !audit.findings.some(
        (f) => (f.code === 'GATE_CHANGED' || f.code === 'MODE_OR_OWNER_WRONG') && f.path === policy.gatePath,
      )
    )
      continue;
    const written = await worker.copyToGuest(Buffer.from(generateGate(policy).script), policy.gatePath, {
      ...ctx.ops,
      mode: 0o755,
      owner: { uid: 0, gid: 0 },
    });
    steps.push({
      what: `gate ${policy.name}`,
      ok: written.ok,
      ...(written.ok ? {} : { message: written.error.message }),
    });
  }
  for (const path of audit.pinnedHostKeyPaths)
    if (paths.has(path))
      steps.push(
        await run(worker, ctx, `host key ${path}`, [
          ['/bin/chown', ['0:0', '--', path]],
          ['/bin/chmod', ['600', '--', path]],
        ]),
      );
  if (codes.has('SSHD_CONFIG_CHANGED') || paths.has(PSM_SSHD_CONFIG_PATH))
    steps.push(await fixSshdConfig(ctx, worker, audit));
  return steps;
}

/**
 * An application whose keys expired no longer holds the worker: its grant is revoked. An expired
 * admin key is left for `psm rotate-keys --admin` (psm never extends a key by rewriting it).
 */
async function revokeExpired(
  settings: KeyExchangeSettings,
  worker: Worker,
  audit: WorkerAudit,
  ctx: AuditContext,
): Promise<FixStep[]> {
  const expired = new Set(
    audit.findings.flatMap((f) => (f.code === 'EXPIRED_LINE' && f.fingerprint ? [f.fingerprint] : [])),
  );
  if (expired.size === 0) return [];
  const record = await readIntendedKeys(settings.location, worker.name);
  if (!record.ok) return [{ what: 'expired grants', ok: false, message: record.error.message }];
  const steps: FixStep[] = [];
  for (const app of record.value.applications) {
    if (![app.mainNode, ...app.initiators].some((key) => expired.has(key.fingerprint))) continue;
    const revoked = await revokeApplication(settings, worker, app.appId, ctx.ops);
    steps.push({
      what: `revoke expired ${app.appId}`,
      ok: revoked.ok,
      ...(revoked.ok ? {} : { message: revoked.error.message }),
    });
  }
  return steps;
}

async function fixSshdConfig(ctx: AuditContext, worker: Worker, audit: WorkerAudit): Promise<FixStep> {
  const what = 'sshd config';
  if (audit.pinnedHostKeyPaths.length === 0)
    return {
      what,
      ok: false,
      message: 'no pinned host key is named by the config: prepare the worker again',
    };
  const config = renderWorkerSshdConfig({ hostKeyPaths: audit.pinnedHostKeyPaths });
  const staged = `${PSM_SSHD_CONFIG_PATH}.audit-fix`;
  const written = await worker.copyToGuest(Buffer.from(config), staged, {
    ...ctx.ops,
    mode: 0o644,
    owner: { uid: 0, gid: 0 },
  });
  if (!written.ok) return { what, ok: false, message: written.error.message };
  const checked = await run(worker, ctx, 'sshd -t', [[SSHD, ['-t', '-f', staged]]]);
  if (!checked.ok) {
    await worker.runProgram('/bin/rm', ['-f', '--', staged], ctx.ops);
    return { what, ok: false, message: "the guest sshd refuses psm's config; prepare the worker again" };
  }
  const moved = await run(worker, ctx, 'install config', [
    ['/bin/mv', ['-f', '--', staged, PSM_SSHD_CONFIG_PATH]],
  ]);
  if (!moved.ok) return moved;
  // busybox init starts sshd again (with psm's config) once the running listener is gone.
  const pid = await worker.copyFromGuest(SSHD_PID_FILE, ctx.ops);
  const text = pid.ok ? Buffer.from(pid.value.data).toString('latin1').trim() : '';
  if (!/^\d{1,10}$/.test(text))
    return { what, ok: false, message: 'config written, but sshd has no pid file to restart it by' };
  const restarted = await run(worker, ctx, 'restart sshd', [['/bin/kill', [text]]]);
  return restarted.ok ? { what, ok: true } : restarted;
}

async function run(
  worker: Worker,
  ctx: AuditContext,
  what: string,
  commands: readonly (readonly [string, readonly string[]])[],
): Promise<FixStep> {
  for (const [path, argv] of commands) {
    const ran = await worker.runProgram(path, argv, ctx.ops);
    if (!ran.ok) return { what, ok: false, message: ran.error.message };
    if (ran.value.exitCode !== 0) return { what, ok: false, message: `${path} exited ${ran.value.exitCode}` };
  }
  return { what, ok: true };
}

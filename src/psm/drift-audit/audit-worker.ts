import type { Worker } from '../../guest-ops/guest-ops.js';
import { auditAuthorizedKeys } from './check-keys.js';
import { auditGates } from './check-gates.js';
import { auditHostKeys } from './check-host-keys.js';
import { auditSshdConfig } from './check-sshd.js';
import type { AuditContext } from './context.js';
import type { DriftFinding } from './findings.js';

export interface WorkerAudit {
  readonly worker: string;
  readonly findings: readonly DriftFinding[];
  /** The HostKey paths of psm's sshd config whose keys are pinned (what a fix may keep). */
  readonly pinnedHostKeyPaths: readonly string[];
}

/** Every check of one running worker, read out of band through its guest agent. */
export async function auditWorker(ctx: AuditContext, worker: Worker): Promise<WorkerAudit> {
  const reachable = await worker.waitForAgent({ ...ctx.ops, timeoutMs: ctx.ops.timeoutMs ?? 30_000 });
  if (!reachable.ok)
    return {
      worker: worker.name,
      findings: [
        { code: 'WORKER_UNREACHABLE', message: `${reachable.error.code}: ${reachable.error.message}` },
      ],
      pinnedHostKeyPaths: [],
    };
  const keys = await auditAuthorizedKeys(ctx, worker);
  const sshd = await auditSshdConfig(ctx, worker);
  const hostKeys = await auditHostKeys(ctx, worker, sshd.hostKeyPaths);
  const gates = await auditGates(ctx, worker);
  return {
    worker: worker.name,
    findings: [...keys, ...sshd.findings, ...hostKeys.findings, ...gates],
    pinnedHostKeyPaths: hostKeys.pinnedPaths,
  };
}

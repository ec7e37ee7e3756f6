import type { Worker } from '../../guest-ops/guest-ops.js';
import { generateGate } from '../gate/index.js';
import { DEFAULT_GATE_DIR } from '../policy/index.js';
import type { AuditContext } from './context.js';
import type { DriftFinding } from './findings.js';
import { rootOnlyWritable, statInGuest } from './guest-stat.js';

/** The largest gate psm generates is a few KiB. */
const MAX_GATE_BYTES = 256 * 1024;

/** Each policy's gate must be the script psm generates for it, root's, 0755, in a directory only root writes. */
export async function auditGates(ctx: AuditContext, worker: Worker): Promise<DriftFinding[]> {
  const findings: DriftFinding[] = [];
  const dir = ctx.gateDir ?? DEFAULT_GATE_DIR;
  const dirStat = await statInGuest(worker, dir, { ...ctx.ops, follow: true });
  if (!dirStat.ok) return [{ code: 'WORKER_UNREACHABLE', path: dir, message: dirStat.error }];
  if (dirStat.value !== null && (dirStat.value.type !== 'directory' || !rootOnlyWritable(dirStat.value)))
    findings.push({
      code: 'MODE_OR_OWNER_WRONG',
      path: dir,
      message: `${dir} must be a directory only root can write`,
    });
  for (const policy of [ctx.policies.admin, ctx.policies.mainNode, ctx.policies.initiator]) {
    const path = policy.gatePath;
    const stat = await statInGuest(worker, path, ctx.ops);
    if (!stat.ok) return [...findings, { code: 'WORKER_UNREACHABLE', path, message: stat.error }];
    if (stat.value === null) {
      findings.push({ code: 'GATE_CHANGED', path, message: `the ${policy.name} gate ${path} is missing` });
      continue;
    }
    const { type, mode, uid, gid } = stat.value;
    if (type !== 'file') {
      findings.push({
        code: 'GATE_CHANGED',
        path,
        message: `the ${policy.name} gate ${path} is a ${type}, not a file`,
      });
      continue;
    }
    if (mode !== 0o755 || uid !== 0 || gid !== 0)
      findings.push({
        code: 'MODE_OR_OWNER_WRONG',
        path,
        message: `${path} is mode ${mode.toString(8)}, owner ${uid}:${gid} (psm installs gates 755, root:root)`,
      });
    const read = await worker.copyFromGuest(path, ctx.ops);
    if (!read.ok) return [...findings, { code: 'WORKER_UNREACHABLE', path, message: read.error.message }];
    const expected = Buffer.from(generateGate(policy).script, 'utf8');
    const data = Buffer.from(read.value.data);
    if (data.length > MAX_GATE_BYTES || !data.equals(expected))
      findings.push({
        code: 'GATE_CHANGED',
        path,
        message: `the ${policy.name} gate ${path} is not the script psm generates from ${policy.file}`,
      });
  }
  return findings;
}

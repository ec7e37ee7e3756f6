import { createHash } from 'node:crypto';
import type { Worker } from '../../guest-ops/guest-ops.js';
import { readWorkerRecord } from '../worker-prepare/worker-record.js';
import { decodeUtf8Strict } from '../../common/utf8.js';
import { PSM_SSHD_CONFIG_PATH, renderWorkerSshdConfig } from '../host-keys/sshd-config.js';
import type { AuditContext } from './context.js';
import type { DriftFinding } from './findings.js';
import { rootOnlyWritable, statInGuest } from './guest-stat.js';

/** psm's sshd_config is a few hundred bytes. */
const MAX_CONFIG_BYTES = 64 * 1024;
const HOST_KEY_LINE = /^HostKey (\/\S+)$/gm;

export interface SshdAudit {
  readonly findings: DriftFinding[];
  /** The HostKey paths the config names (what sshd presents), for the host key check. */
  readonly hostKeyPaths: string[];
}

/**
 * psm's sshd_config on the worker must be exactly what psm renders for the host keys it names:
 * any other line (a second AuthorizedKeysFile, AllowTcpForwarding yes, an Include) is drift.
 */
export async function auditSshdConfig(ctx: AuditContext, worker: Worker): Promise<SshdAudit> {
  const path = PSM_SSHD_CONFIG_PATH;
  const stat = await statInGuest(worker, path, ctx.ops);
  if (!stat.ok)
    return { findings: [{ code: 'WORKER_UNREACHABLE', path, message: stat.error }], hostKeyPaths: [] };
  if (stat.value === null)
    return {
      findings: [
        {
          code: 'SSHD_CONFIG_CHANGED',
          path,
          message: `${path} is missing: sshd runs with the image's config`,
        },
      ],
      hostKeyPaths: [],
    };
  const findings: DriftFinding[] = [];
  if (stat.value.type !== 'file' || !rootOnlyWritable(stat.value))
    findings.push({
      code: 'MODE_OR_OWNER_WRONG',
      path,
      message: `${path} must be a root-owned file nobody else can write (mode ${stat.value.mode.toString(8)}, owner ${stat.value.uid})`,
    });
  const read = await worker.copyFromGuest(path, ctx.ops);
  if (!read.ok)
    return {
      findings: [...findings, { code: 'WORKER_UNREACHABLE', path, message: read.error.message }],
      hostKeyPaths: [],
    };
  const text = read.value.data.length > MAX_CONFIG_BYTES ? null : decodeUtf8Strict(read.value.data);
  const hostKeyPaths = text === null ? [] : [...text.matchAll(HOST_KEY_LINE)].map((m) => m[1] ?? '');
  const expected = hostKeyPaths.length === 0 ? null : renderWorkerSshdConfig({ hostKeyPaths });
  // A prepared worker's record holds the digest of the very config prepare wrote (site lines included).
  const record = await readWorkerRecord(ctx.location, worker.name);
  const digest = createHash('sha256').update(read.value.data).digest('hex');
  const changed = record.ok
    ? digest !== record.value.identity.sshdConfigSha256
    : text === null || expected === null || text !== expected;
  if (changed)
    findings.push({
      code: 'SSHD_CONFIG_CHANGED',
      path,
      message: `${path} is not the config psm wrote${record.ok ? ' (its sha256 is not the one prepare recorded)' : ''}${firstDifference(text, expected)}`,
    });
  return { findings, hostKeyPaths };
}

function firstDifference(text: string | null, expected: string | null): string {
  if (text === null) return ' (not UTF-8 text, or too large)';
  if (expected === null) return ' (it names no HostKey)';
  const got = text.split('\n');
  const want = expected.split('\n');
  const at = got.findIndex((line, i) => line !== want[i]);
  const line = at < 0 ? want.length : at;
  return ` (first difference at line ${line + 1}: ${JSON.stringify((got[line] ?? '<end of file>').slice(0, 80))})`;
}

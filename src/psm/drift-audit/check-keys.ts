import { AUTHORIZED_KEYS_DIR } from '../../guest-ops/image/guest-etc.js';
import type { Worker } from '../../guest-ops/guest-ops.js';
import {
  AUTHORIZED_KEYS_MODE,
  compareKeyFile,
  GUEST_AUTHORIZED_KEYS,
  MAX_GUEST_AUTHORIZED_KEYS_BYTES,
  readIntendedKeys,
  renderIntendedFile,
} from '../key-exchange/index.js';
import type { AuditContext } from './context.js';
import type { DriftFinding } from './findings.js';
import { rootOnlyWritable, statInGuest } from './guest-stat.js';

/** sshd's StrictModes checks the file and every directory above it up to / (root-owned, not writable by others). */
const KEY_DIRS = ['/persist', '/persist/etc', '/persist/etc/ssh', AUTHORIZED_KEYS_DIR];

/** The worker's authorized_keys against its intended keys, rendered under today's policies. */
export async function auditAuthorizedKeys(ctx: AuditContext, worker: Worker): Promise<DriftFinding[]> {
  const record = await readIntendedKeys(ctx.location, worker.name);
  if (!record.ok) return [{ code: 'NO_INTENDED_STATE', message: record.error.message }];
  if (record.value.revision === 0)
    return [
      { code: 'NO_INTENDED_STATE', message: `psm has written no keys to ${worker.name} (prepare it first)` },
    ];
  const file = renderIntendedFile(record.value, ctx.policies, ctx.gateDir);
  if (!file.ok) return [{ code: 'NO_INTENDED_STATE', message: file.error.message }];
  const findings: DriftFinding[] = [];
  for (const dir of KEY_DIRS) {
    const stat = await statInGuest(worker, dir, ctx.ops);
    if (!stat.ok) return [{ code: 'WORKER_UNREACHABLE', message: stat.error, path: dir }];
    if (stat.value === null || stat.value.type !== 'directory' || !rootOnlyWritable(stat.value))
      findings.push({
        code: 'MODE_OR_OWNER_WRONG',
        path: dir,
        message: `${dir} must be a root-owned directory nobody else can write`,
      });
  }
  const path = GUEST_AUTHORIZED_KEYS;
  const stat = await statInGuest(worker, path, ctx.ops);
  if (!stat.ok) return [...findings, { code: 'WORKER_UNREACHABLE', message: stat.error, path }];
  if (stat.value === null)
    return [
      ...findings,
      { code: 'FILE_MISSING', path, message: `${path} is missing: no granted key can log in` },
    ];
  const { type, mode, uid, gid } = stat.value;
  if (type !== 'file' || mode !== AUTHORIZED_KEYS_MODE || uid !== 0 || gid !== 0)
    findings.push({
      code: 'MODE_OR_OWNER_WRONG',
      path,
      message: `${path} is a ${type}, mode ${mode.toString(8)}, owner ${uid}:${gid} (psm writes a file, 644, root:root)`,
    });
  if (type !== 'file') return findings;
  const read = await worker.copyFromGuest(path, ctx.ops);
  if (!read.ok) return [...findings, { code: 'WORKER_UNREACHABLE', path, message: read.error.message }];
  if (read.value.data.length > MAX_GUEST_AUTHORIZED_KEYS_BYTES)
    return [...findings, { code: 'INVALID_LINE', path, message: `${path} is larger than psm ever writes` }];
  for (const f of compareKeyFile(read.value.data, file.value.lines, ctx.now)) findings.push({ ...f, path });
  return findings;
}

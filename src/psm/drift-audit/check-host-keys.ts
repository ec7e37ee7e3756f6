import { timingSafeEqual } from 'node:crypto';
import type { Worker } from '../../guest-ops/guest-ops.js';
import type { PublicKey } from '../../authorized-keys/index.js';
import { parseGuestPublicKey } from '../host-keys/guest-answers.js';
import { pinnedKeys } from '../host-keys/pin-store.js';
import type { AuditContext } from './context.js';
import type { DriftFinding } from './findings.js';
import { statInGuest } from './guest-stat.js';

const GUEST_SSH_KEYGEN = '/usr/bin/ssh-keygen';

/**
 * Every host key sshd uses must be pinned for the worker. The public half is derived in the guest
 * from the private file sshd reads (`ssh-keygen -y`), not taken from the `.pub` beside it, which
 * sshd never reads. Private key files must be root's, 0600.
 */
export async function auditHostKeys(
  ctx: AuditContext,
  worker: Worker,
  hostKeyPaths: readonly string[],
): Promise<{ findings: DriftFinding[]; pinnedPaths: string[] }> {
  const pins = await pinnedKeys(ctx.location, worker.name);
  const pinned: readonly PublicKey[] = pins.ok ? pins.value : [];
  const findings: DriftFinding[] = [];
  const pinnedPaths: string[] = [];
  if (!pins.ok) findings.push({ code: 'HOST_KEY_NOT_PINNED', message: pins.error.message });
  for (const path of hostKeyPaths) {
    const stat = await statInGuest(worker, path, ctx.ops);
    if (!stat.ok) {
      findings.push({ code: 'WORKER_UNREACHABLE', path, message: stat.error });
      continue;
    }
    if (stat.value === null) {
      findings.push({ code: 'HOST_KEY_NOT_PINNED', path, message: `${path} is missing` });
      continue;
    }
    const { type, mode, uid } = stat.value;
    if (type !== 'file' || mode !== 0o600 || uid !== 0)
      findings.push({
        code: 'MODE_OR_OWNER_WRONG',
        path,
        message: `${path} is a ${type}, mode ${mode.toString(8)}, owner ${uid} (a host key is a file, 600, root)`,
      });
    const derived = await worker.runProgram(GUEST_SSH_KEYGEN, ['-y', '-f', path], ctx.ops);
    if (!derived.ok) {
      findings.push({ code: 'WORKER_UNREACHABLE', path, message: derived.error.message });
      continue;
    }
    const key = derived.value.exitCode === 0 ? parseGuestPublicKey(derived.value.stdout, path) : null;
    if (key === null || !key.ok) {
      findings.push({
        code: 'HOST_KEY_NOT_PINNED',
        path,
        message: `${path} is not a host key ssh-keygen can read`,
      });
      continue;
    }
    const match = pinned.some(
      (pin) => pin.blob.length === key.value.blob.length && timingSafeEqual(pin.blob, key.value.blob),
    );
    if (match) pinnedPaths.push(path);
    else
      findings.push({
        code: 'HOST_KEY_NOT_PINNED',
        path,
        fingerprint: key.value.fingerprint,
        message: `${path} holds ${key.value.fingerprint}, not a key pinned for ${worker.name}`,
      });
  }
  return { findings, pinnedPaths };
}

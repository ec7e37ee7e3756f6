import { stat } from 'node:fs/promises';
import type { Result } from '../common/result.js';
import { defaultVmDirectory, openDriver } from '../guest-ops/driver-factory.js';
import { guestOpsErrorCategory } from '../guest-ops/errors.js';
import type { Worker } from '../guest-ops/guest-ops.js';
import { MAX_TIMEOUT_SECONDS } from '../guest-ops/limits.js';
import { SSH_KEY_ALGORITHMS, type SshKeyAlgorithm } from '../authorized-keys/keys/index.js';
import { policyErrorCategory } from '../psm/error-category.js';
import { hostKeyErrorCategory, type HostKeyError } from '../psm/host-keys/errors.js';
import type { KeyPolicy } from '../psm/policy/types.js';
import { prepareFailureCategory, type PrepareFailure } from '../psm/worker-prepare/errors.js';
import { layoutOf, locationFrom } from '../vault/layout.js';
import { vaultErrorCategory } from '../vault/errors.js';
import { CliFailure, failureOf } from './failure.js';
import { integerOption } from './vm-support.js';

/** What `psm worker ...` verbs share: the location, the VM directory, the worker handle. */
export interface WorkerFlags {
  location?: string;
  vmDir?: string;
  json: boolean;
  timeout?: string;
}

export function locationOf(flags: WorkerFlags): string {
  const location = locationFrom(flags.location);
  if (!location.ok) throw failureOf(location.error, vaultErrorCategory);
  return location.value;
}

/** --vm-dir, else the location's VM directory (the one `psm vm` uses too). */
export function vmDirectoryOf(flags: WorkerFlags, location: string): string {
  return flags.vmDir ?? defaultVmDirectory(location);
}

export async function withWorker<T>(
  flags: WorkerFlags,
  location: string,
  name: string,
  work: (worker: Worker) => Promise<T>,
): Promise<T> {
  const driver = await openDriver({ kind: 'qemu', vmDirectory: vmDirectoryOf(flags, location) });
  if (!driver.ok) throw failureOf(driver.error, guestOpsErrorCategory);
  const worker = await driver.value.openWorker(name);
  if (!worker.ok) throw failureOf(worker.error, guestOpsErrorCategory);
  try {
    return await work(worker.value);
  } finally {
    await worker.value.close();
  }
}

export function timeoutOf(flags: WorkerFlags): { timeoutMs?: number } {
  return flags.timeout === undefined
    ? {}
    : { timeoutMs: integerOption(flags.timeout, '--timeout', 1, MAX_TIMEOUT_SECONDS) * 1000 };
}

export function prepareFailure(failure: PrepareFailure): CliFailure {
  const where = failure.step === undefined ? '' : ` (step ${failure.step})`;
  return new CliFailure(failure.code, `${failure.message}${where}`, prepareFailureCategory(failure));
}

export function hostKeyFailure(error: HostKeyError): CliFailure {
  return failureOf(error, hostKeyErrorCategory);
}

export function unwrapHostKeys<T>(result: Result<T, HostKeyError>): T {
  if (result.ok) return result.value;
  throw hostKeyFailure(result.error);
}

/** `--key-type ed25519,ecdsa`: each of psm's types at most once. */
export function keyTypesOf(text: string): SshKeyAlgorithm[] {
  const types = text.split(',');
  const known = (t: string): t is SshKeyAlgorithm => (SSH_KEY_ALGORITHMS as readonly string[]).includes(t);
  if (types.length === 0 || !types.every(known) || new Set(types).size !== types.length)
    throw new CliFailure(
      'USAGE',
      `--key-type takes a comma-separated list of ${SSH_KEY_ALGORITHMS.join(', ')}, each once`,
      'usage',
    );
  return types;
}

import { shippedPoliciesDirectory } from './shipped-policies.js';

export { shippedPoliciesDirectory };

/** --policies, else the location's etc/psm-policies when it exists, else the shipped ones. */
export async function policiesOf(flag: string | undefined, location: string): Promise<KeyPolicy[]> {
  const local = layoutOf(location).policiesDir;
  const chosen =
    flag ??
    ((await stat(local).catch(() => undefined))?.isDirectory() === true ? local : shippedPoliciesDirectory());
  const { lintPath, loadPolicyFile } = await import('../psm/policy/index.js');
  const report = await lintPath(chosen);
  if (!report.ok) throw failureOf(report.error, policyErrorCategory);
  const first = report.value.findings.find((f) => f.severity === 'error');
  if (first !== undefined && first.severity === 'error')
    throw new CliFailure(
      first.code,
      `${first.file ?? chosen}: ${first.message} (psm policy lint ${chosen})`,
      policyErrorCategory(first.code),
    );
  const policies: KeyPolicy[] = [];
  for (const file of report.value.files) {
    const loaded = await loadPolicyFile(file);
    if (!loaded.ok) throw new CliFailure('POLICY_UNREADABLE', `${file} cannot be read`, 'unreadable');
    policies.push(loaded.value);
  }
  return policies;
}

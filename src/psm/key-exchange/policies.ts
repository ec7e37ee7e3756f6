import { isIP } from 'node:net';
import { join } from 'node:path';
import { ok, type Result } from '../../common/result.js';
import { loadPolicyFile } from '../policy/lint.js';
import type { KeyPolicy, KeyRole } from '../policy/types.js';
import { addressMatchesFrom } from './from-match.js';
import { keyxError, type KeyExchangeError } from './errors.js';

/** The three policies key exchange writes under, one file per role in the policy directory. */
export interface RolePolicies {
  readonly admin: KeyPolicy;
  readonly mainNode: KeyPolicy;
  readonly initiator: KeyPolicy;
}

export const ROLE_FILES: Readonly<Record<KeyRole, string>> = {
  admin: 'admin.yaml',
  'main-node': 'main-node.yaml',
  initiator: 'initiator.yaml',
};

export interface LoadPoliciesOptions {
  /** psm's gate directory on the workers (DEFAULT_GATE_DIR when absent). */
  readonly gateDir?: string;
}

async function loadRole(
  dir: string,
  role: KeyRole,
  options: LoadPoliciesOptions,
): Promise<Result<KeyPolicy, KeyExchangeError>> {
  const file = join(dir, ROLE_FILES[role]);
  const loaded = await loadPolicyFile(
    file,
    options.gateDir === undefined ? {} : { gateDir: options.gateDir },
  );
  if (!loaded.ok) {
    const first = loaded.error[0];
    return keyxError(
      'KEYX_POLICY',
      `${file}: ${first === undefined ? 'invalid' : `${first.code}: ${first.message}`} (check with psm policy lint)`,
    );
  }
  if (loaded.value.role !== role)
    return keyxError('KEYX_POLICY', `${file} has role ${loaded.value.role}, not ${role}`);
  return loaded;
}

/** Loads admin.yaml, main-node.yaml and initiator.yaml from `dir`; each must lint clean of errors. */
export async function loadRolePolicies(
  dir: string,
  options: LoadPoliciesOptions = {},
): Promise<Result<RolePolicies, KeyExchangeError>> {
  const admin = await loadRole(dir, 'admin', options);
  if (!admin.ok) return admin;
  const mainNode = await loadRole(dir, 'main-node', options);
  if (!mainNode.ok) return mainNode;
  const initiator = await loadRole(dir, 'initiator', options);
  if (!initiator.ok) return initiator;
  return ok({ admin: admin.value, mainNode: mainNode.value, initiator: initiator.value });
}

/**
 * The admin key must work from where the workers see the admin VM (`worker.admin_address` in
 * virtual.conf; 10.0.2.2 under QEMU user networking). A policy whose `from` leaves that address
 * out would write a line sshd refuses: psm would lock itself out, so it refuses first.
 */
export function checkAdminFrom(policy: KeyPolicy, adminAddress: string): Result<void, KeyExchangeError> {
  if (isIP(adminAddress) === 0)
    return keyxError(
      'KEYX_ADMIN_FROM_MISMATCH',
      `the admin address ${JSON.stringify(adminAddress.slice(0, 64))} is not an IP address`,
    );
  if (policy.from.length === 0 || addressMatchesFrom(adminAddress, policy.from)) return ok(undefined);
  return keyxError(
    'KEYX_ADMIN_FROM_MISMATCH',
    `${policy.file}: from (${policy.from.join(',')}) does not include ${adminAddress}, where the workers see the admin VM ` +
      '(worker.admin_address in virtual.conf): the admin key would be refused; add it to the policy or fix the setting',
  );
}

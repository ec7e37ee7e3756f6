import type { Command } from 'commander';
import type { GuestOpsDriver } from '../guest-ops/guest-ops.js';
import type { AuditLog } from '../psm/audit-log/index.js';
import type { KeyExchangeSettings } from '../psm/key-exchange/index.js';
import { failureOf } from './failure.js';
import type { CliIo } from './output.js';
import { addKeyOptions, addLocationOption, keyOptions, orFail, type KeyFlags } from './vault-options.js';

/**
 * What the commands that change or read workers' trust share (`psm audit`, `psm rotate-keys`,
 * `psm access`): the location, its config (the admin address), the role policies, the VM driver
 * and the audit log, opened once per run and closed by `close()`.
 */
export interface PsmFlags extends KeyFlags {
  readonly policies?: string;
  readonly vmDir?: string;
}

export interface PsmContext {
  readonly settings: KeyExchangeSettings;
  readonly driver: GuestOpsDriver;
  readonly audit: AuditLog;
  close(): void;
}

export function addPsmOptions(command: Command): Command {
  return addKeyOptions(addLocationOption(command))
    .option(
      '--policies <dir>',
      'the role policies admin.yaml, main-node.yaml, initiator.yaml (default: LOCATION/etc/psm-policies)',
    )
    .option('--vm-dir <dir>', "the workers' VM directory (default: LOCATION/var/psm/vms)");
}

export async function openPsmContext(io: CliIo, flags: PsmFlags): Promise<PsmContext> {
  const { layoutOf, loadConfig, locationFrom } = await import('../vault/index.js');
  const { loadRolePolicies, keyExchangeErrorCategory } = await import('../psm/key-exchange/index.js');
  const { openAuditLog, auditLogErrorCategory } = await import('../psm/audit-log/index.js');
  const { defaultVmDirectory, openDriver } = await import('../guest-ops/driver-factory.js');
  const { guestOpsErrorCategory } = await import('../guest-ops/errors.js');
  const location = orFail(locationFrom(flags.location));
  const conf = orFail(await loadConfig(location));
  const policies = await loadRolePolicies(flags.policies ?? layoutOf(location).policiesDir);
  if (!policies.ok) throw failureOf(policies.error, keyExchangeErrorCategory);
  const driver = await openDriver({ kind: 'qemu', vmDirectory: flags.vmDir ?? defaultVmDirectory(location) });
  if (!driver.ok) throw failureOf(driver.error, guestOpsErrorCategory);
  const audit = await openAuditLog(location, keyOptions(io, flags));
  if (!audit.ok) throw failureOf(audit.error, auditLogErrorCategory);
  return {
    settings: {
      location,
      policies: policies.value,
      adminAddress: conf.worker.adminAddress,
      audit: audit.value,
    },
    driver: driver.value,
    audit: audit.value,
    close: () => audit.value.close(),
  };
}

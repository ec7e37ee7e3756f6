/** `psm vault rekey`: re-seals every value under a new master key, in one atomic replace. */
import { Option, type Command } from 'commander';
import { printJson, printLine, type CliIo } from './output.js';
import { openActLog, recordAct } from './record-act.js';
import { AUDIT_ACTIONS } from '../psm/audit-log/actions.js';
import type { AuditLog } from '../psm/audit-log/index.js';
import {
  addKeyOptions,
  addLocationOption,
  addLockWaitOption,
  onceKeyOptions,
  orFail,
  parseFd,
  promptFailure,
  readPassphrase,
  writeOptions,
  type KeyFlags,
} from './vault-options.js';

const lib = () => import('../vault/index.js');

interface RekeyFlags extends KeyFlags {
  readonly to?: 'file' | 'passphrase';
  readonly newPassphraseFile?: string;
  readonly newPassphraseFd?: number;
  readonly kdfCost: 'min' | 'interactive' | 'moderate';
}

export function registerRekey(vault: Command, io: CliIo): void {
  const command = vault
    .command('rekey')
    .description(
      're-seal every value under a new master key (or switch between key file and passphrase), in one atomic replace',
    )
    .addOption(
      new Option('--to <source>', 'new key source (default: the current one)').choices([
        'file',
        'passphrase',
      ]),
    )
    .addOption(
      new Option('--new-passphrase-file <path>', 'read the new passphrase from this file').conflicts(
        'newPassphraseFd',
      ),
    )
    .addOption(
      new Option('--new-passphrase-fd <n>', 'read the new passphrase from this descriptor').argParser(
        parseFd,
      ),
    )
    .addOption(
      new Option('--kdf-cost <cost>', 'Argon2id cost for a new passphrase ("min" is for tests only)')
        .choices(['min', 'interactive', 'moderate'])
        .default('moderate'),
    )
    .option('--json', 'print the result as JSON');
  addLockWaitOption(addKeyOptions(addLocationOption(command))).action(async (flags: RekeyFlags) => {
    const { locationFrom, loadConfig, rekeyVault } = await lib();
    const location = orFail(locationFrom(flags.location));
    const to = flags.to ?? orFail(await loadConfig(location)).vault.keySource;
    let target: Parameters<typeof rekeyVault>[2] = { kind: 'file' };
    if (to === 'passphrase') {
      const read = await readPassphrase(
        io,
        { file: flags.newPassphraseFile, fd: flags.newPassphraseFd },
        'new vault passphrase',
        true,
      );
      if (!read.ok) throw promptFailure(read.error, 'new vault passphrase');
      target = { kind: 'passphrase', passphrase: read.value, cost: flags.kdfCost };
    }
    const key = onceKeyOptions(io, flags);
    let log: AuditLog | undefined;
    let result: Awaited<ReturnType<typeof rekeyVault>>;
    try {
      // Opened with the old key; the log's keys stay in memory across the rekey.
      log = await openActLog(location, key.options, writeOptions(flags));
      result = await rekeyVault(location, key.options, target, writeOptions(flags));
      if (result.ok)
        await recordAct(log, {
          action: AUDIT_ACTIONS.vaultRekey,
          subject: {
            oldKeyId: result.value.oldKeyId,
            newKeyId: result.value.newKeyId,
            keySource: result.value.keySource,
            resealed: result.value.resealed,
          },
        });
    } finally {
      key.wipe();
      log?.close();
    }
    const done = orFail(result);
    if (flags.json) printJson(io, done);
    else
      printLine(
        io,
        `rekeyed: ${done.resealed} sealed values moved from key ${done.oldKeyId} to key ${done.newKeyId} (${done.keySource})`,
      );
  });
  command.addHelpText(
    'after',
    `
Examples:
  psm vault rekey                                   # new random key file
  psm vault rekey --to passphrase                   # asks for the new passphrase twice
  psm vault rekey --to file --passphrase-file /run/old-pass
  psm vault rekey --to passphrase --new-passphrase-fd 3 3</run/new-pass --json`,
  );
}

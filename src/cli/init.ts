import { Option, type Command } from 'commander';
import { failureOf } from './failure.js';
import { printError, printJson, printLine, type CliIo } from './output.js';
import { POLICY_SETS, shippedPolicySource, type PolicySet } from './shipped-policies.js';
import {
  addLocationOption,
  addLockWaitOption,
  orFail,
  parseFd,
  promptFailure,
  readPassphrase,
  writeOptions,
} from './vault-options.js';

/** `psm init`: the location tree, key, commented virtual.conf and admin SSH key. Idempotent. */
interface InitFlags {
  readonly location?: string;
  readonly force?: boolean;
  readonly kind: 'qemu' | 'vsphere';
  readonly passphrase?: boolean;
  readonly passphraseFile?: string;
  readonly passphraseFd?: number;
  readonly kdfCost: 'min' | 'interactive' | 'moderate';
  readonly importLegacy?: string;
  readonly json?: boolean;
  readonly lockWait?: number;
  readonly policySet: PolicySet;
}

export function register(program: Command, io: CliIo): void {
  const command = program
    .command('init')
    .description(
      'Create the POP-C++ location tree, the master key, a commented virtual.conf and the admin SSH key (idempotent)',
    )
    .option('--force', 'replace an existing key, config and admin key (sealed values are lost)')
    .addOption(
      new Option('--kind <kind>', 'hypervisor kind for a new config')
        .choices(['qemu', 'vsphere'])
        .default('qemu'),
    )
    .option('--passphrase', 'seal with a passphrase asked on the terminal instead of a key file')
    .addOption(
      new Option('--passphrase-file <path>', 'seal with the passphrase in this file').conflicts(
        'passphraseFd',
      ),
    )
    .addOption(
      new Option('--passphrase-fd <n>', 'seal with the passphrase read from this descriptor').argParser(
        parseFd,
      ),
    )
    .addOption(
      new Option('--kdf-cost <cost>', 'Argon2id cost ("min" is for tests only)')
        .choices(['min', 'interactive', 'moderate'])
        .default('moderate'),
    )
    .option(
      '--import-legacy <file>',
      'import a 2010-style virtual.conf (popc_esx_* keys) and seal its passwords',
    )
    .addOption(
      new Option(
        '--policy-set <set>',
        'the policies a location with none gets: default, or popc for a POP-C++ 2.5 grid',
      )
        .choices(POLICY_SETS)
        .default('default'),
    )
    .option('--json', 'print the result as JSON');
  addLockWaitOption(addLocationOption(command)).action(async (flags: InitFlags) => {
    const { initVault, layoutOf, locationFrom, readLegacyFile } = await import('../vault/index.js');
    // Checked before anything is asked or created: no partial tree for a bad location.
    const location = orFail(locationFrom(flags.location));
    // The file before the prompt; a refused passphrase wipes the imported bytes on its way out.
    const legacy =
      flags.importLegacy === undefined
        ? undefined
        : { file: flags.importLegacy, bytes: orFail(await readLegacyFile(flags.importLegacy)) };
    let passphrase: Uint8Array | undefined;
    if (flags.passphrase === true || flags.passphraseFile !== undefined || flags.passphraseFd !== undefined) {
      const read = await readPassphrase(
        io,
        { file: flags.passphraseFile, fd: flags.passphraseFd },
        'new vault passphrase',
        true,
      );
      if (!read.ok) {
        legacy?.bytes.fill(0);
        throw promptFailure(read.error, 'vault passphrase');
      }
      passphrase = read.value;
    }
    const initialised = orFail(
      await initVault({
        location,
        force: flags.force === true,
        kind: flags.kind,
        kdfCost: flags.kdfCost,
        ...(passphrase === undefined ? {} : { passphrase }),
        ...(legacy === undefined ? {} : { legacy }),
        ...writeOptions(flags),
      }),
    );
    // A location with no policy can neither prepare a worker nor write a key: it starts with
    // the shipped ones, which the operator then edits (a directory with any policy is left alone).
    const { installShippedPolicies } = await import('../psm/policy/index.js');
    const { policyErrorCategory } = await import('../psm/error-category.js');
    const installed = await installShippedPolicies(
      shippedPolicySource(flags.policySet),
      layoutOf(location).policiesDir,
    );
    if (!installed.ok) throw failureOf(installed.error, policyErrorCategory);
    const report = { ...initialised, created: [...initialised.created, ...installed.value] };
    if (flags.json) printJson(io, report);
    else {
      for (const path of report.created) printLine(io, `created ${path}`);
      for (const path of report.kept) printLine(io, `kept    ${path}`);
      for (const warning of report.warnings) printError(io, `psm: warning: ${warning}`);
      printLine(
        io,
        `vault key ${report.keyId} (${report.keySource})${report.adminKeyFingerprint === undefined ? '' : `; admin key ${report.adminKeyFingerprint}`}`,
      );
    }
  });
  command.addHelpText(
    'after',
    `
Examples:
  psm init                                   # /usr/local/popc, or $POPC_LOCATION
  psm init --location /opt/popc --json
  psm init --passphrase                      # no key file: asks for a passphrase twice
  psm init --policy-set popc                 # a grid whose objects are real POP-C++ 2.5 ones
  psm init --import-legacy /old/popc/etc/virtual.conf --location /opt/popc`,
  );
}

import type { Command } from 'commander';
import { isUtf8 } from 'node:buffer';
import { CliFailure } from './failure.js';
import { printJson, printLine, type CliIo } from './output.js';
import { openActLog, recordAct } from './record-act.js';
import { AUDIT_ACTIONS } from '../psm/audit-log/actions.js';
import type { AuditLog } from '../psm/audit-log/index.js';
import { promptSecret, readSecretStdin } from './prompt.js';
import { registerRekey } from './vault-rekey.js';
import {
  addKeyOptions,
  addLocationOption,
  addLockWaitOption,
  keyOptions,
  onceKeyOptions,
  orFail,
  promptFailure,
  vaultExitCode,
  writeOptions,
  type KeyFlags,
} from './vault-options.js';

/**
 * `psm vault set|get|list|verify|rekey`: the sealed secrets in virtual.conf. Secrets come from a
 * no-echo prompt, stdin, a file or a descriptor, never from argv; the library is loaded lazily.
 */
const lib = () => import('../vault/index.js');

async function readNewSecret(io: CliIo, path: string, raw: boolean): Promise<Uint8Array> {
  if (io.stdin.isTTY !== true) {
    const piped = await readSecretStdin(io, 'secret', { raw });
    if (!piped.ok) throw promptFailure(piped.error, `secret for ${path}`);
    return piped.value;
  }
  if (raw)
    throw new CliFailure(
      'RAW_NEEDS_STDIN',
      '--raw reads the secret from standard input: pipe or redirect it in',
      'usage',
    );
  const first = await promptSecret(io, `secret for ${path}: `);
  if (!first.ok) throw promptFailure(first.error, `secret for ${path}`);
  const again = await promptSecret(io, `secret for ${path} (again): `);
  const same =
    again.ok &&
    again.value.length === first.value.length &&
    again.value.every((b, i) => b === first.value[i]);
  if (again.ok) again.value.fill(0);
  if (same) return first.value;
  first.value.fill(0);
  throw promptFailure(
    again.ok ? { code: 'CANCELLED', message: 'the two answers differ' } : again.error,
    `secret for ${path}`,
  );
}

function registerSet(vault: Command, io: CliIo): void {
  const command = vault
    .command('set')
    .description('seal a secret into virtual.conf (read from a no-echo prompt, or stdin when not a terminal)')
    .argument('<path>', 'hypervisor.password, worker.guest_password or secrets.NAME')
    .option('--raw', 'seal standard input byte for byte (default: one trailing newline or CRLF is dropped)')
    .option('--json', 'print the result as JSON');
  addLockWaitOption(addKeyOptions(addLocationOption(command))).action(
    async (path: string, flags: KeyFlags & { raw?: boolean }) => {
      const { locationFrom, setSecret, isSecretPath } = await lib();
      if (!isSecretPath(path))
        throw new CliFailure(
          'BAD_PATH',
          `${path} is not a secret field: use hypervisor.password, worker.guest_password or secrets.NAME`,
          'usage',
        );
      const location = orFail(locationFrom(flags.location));
      const key = onceKeyOptions(io, flags);
      const secret = await readNewSecret(io, path, flags.raw === true);
      let log: AuditLog | undefined;
      try {
        const result = orFail(await setSecret(location, path, secret, key.options, writeOptions(flags)));
        // Recorded after the act, so the vault's own refusals (a FIFO, a symlink, a lock) come first.
        log = await openActLog(location, key.options, writeOptions(flags));
        await recordAct(log, {
          action: AUDIT_ACTIONS.vaultSet,
          subject: { path, keyId: result.keyId, replaced: result.replaced },
        });
        if (flags.json) printJson(io, result);
        else printLine(io, `${result.replaced ? 'replaced' : 'sealed'} ${path} (key ${result.keyId})`);
      } finally {
        secret.fill(0);
        key.wipe();
        log?.close();
      }
    },
  );
  command.addHelpText(
    'after',
    `
Examples:
  psm vault set hypervisor.password                  # asks twice, no echo
  printf '%s' "$PW" | psm vault set worker.guest_password --location /opt/popc
  psm vault set secrets.tls-key --raw < key.der        # every byte, a final newline too
  psm vault set secrets.backup-token --passphrase-file /run/psm-pass < token.txt`,
  );
}

function registerGet(vault: Command, io: CliIo): void {
  const command = vault
    .command('get')
    .description('open one sealed secret and print it (needs --reveal)')
    .argument('<path>', 'the secret, e.g. hypervisor.password')
    .option('--reveal', 'really print the secret')
    .option('--raw', 'print the secret byte for byte, without the newline added at the end')
    .option('--json', 'print {"path","value","encoding"} as JSON (base64 when not UTF-8)');
  addKeyOptions(addLocationOption(command)).action(
    async (path: string, flags: KeyFlags & { reveal?: boolean; raw?: boolean }) => {
      if (flags.reveal !== true)
        throw new CliFailure('NOT_REVEALED', 'add --reveal to print the secret', 'usage');
      const { locationFrom, openVault, openSecret } = await lib();
      const vault = orFail(await openVault(orFail(locationFrom(flags.location)), keyOptions(io, flags)));
      try {
        const secret = orFail(openSecret(vault, path));
        try {
          if (flags.json) {
            const text = isUtf8(secret);
            const value = Buffer.from(secret).toString(text ? 'utf8' : 'base64');
            printJson(io, { path, value, encoding: text ? 'utf8' : 'base64' });
          } else {
            // stdout keeps the buffer until written; wipe this copy once it has been.
            const out = flags.raw === true ? Buffer.from(secret) : Buffer.concat([secret, Buffer.from('\n')]);
            io.stdout.write(out, () => out.fill(0));
          }
        } finally {
          secret.fill(0);
        }
      } finally {
        vault.close();
      }
    },
  );
  command.addHelpText(
    'after',
    `
Examples:
  psm vault get hypervisor.password --reveal
  psm vault get secrets.tls-key --reveal --raw > key.der   # the exact bytes, no newline added
  psm vault get worker.guest_password --reveal --json --passphrase-fd 3 3</run/psm-pass`,
  );
}

function registerList(vault: Command, io: CliIo): void {
  const command = vault
    .command('list')
    .description('list sealed secrets: paths and metadata, never values (needs no key)')
    .option('--json', 'print the list as JSON');
  addLocationOption(command).action(async (flags: KeyFlags) => {
    const { locationFrom, loadConfig, listSecrets } = await lib();
    const conf = orFail(await loadConfig(orFail(locationFrom(flags.location))));
    const secrets = listSecrets(conf);
    if (flags.json)
      printJson(io, { file: conf.file, keyId: conf.vault.keyId, keySource: conf.vault.keySource, secrets });
    else {
      printLine(io, `${conf.file}: key ${conf.vault.keyId} (${conf.vault.keySource})`);
      for (const s of secrets) printLine(io, `${s.path}\tline ${s.line ?? '?'}\tkey ${s.keyId}`);
    }
  });
  command.addHelpText(
    'after',
    `
Examples:
  psm vault list
  psm vault list --json --location /opt/popc`,
  );
}

function registerVerify(vault: Command, io: CliIo): void {
  const command = vault
    .command('verify')
    .description('unlock the vault and open every sealed value; exit 6 if any was tampered with')
    .option('--json', 'print the report as JSON');
  addKeyOptions(addLocationOption(command)).action(async (flags: KeyFlags) => {
    const { locationFrom, openVault, verifyVault } = await lib();
    const vault = orFail(await openVault(orFail(locationFrom(flags.location)), keyOptions(io, flags)));
    try {
      const reports = verifyVault(vault);
      const failed = reports.filter((r) => !r.ok);
      const summary = {
        file: vault.conf.file,
        keyId: vault.key.keyId,
        keyOrigin: vault.key.origin,
        ok: failed.length === 0,
        secrets: reports,
      };
      if (flags.json) printJson(io, summary);
      else {
        for (const r of reports)
          printLine(io, r.ok ? `ok\t${r.path}` : `FAILED\t${r.path}\t${r.code}: ${r.message}`);
        printLine(
          io,
          `${reports.length - failed.length} of ${reports.length} sealed values open with key ${vault.key.keyId}`,
        );
      }
      const first = failed[0];
      if (first?.code !== undefined) process.exitCode = vaultExitCode(first.code);
    } finally {
      vault.close();
    }
  });
  command.addHelpText(
    'after',
    `
Examples:
  psm vault verify
  psm vault verify --json --key-file /root/psm.key.backup`,
  );
}

export function register(program: Command, io: CliIo): void {
  const vault = program.command('vault').description('Sealed secrets in $POPC_LOCATION/etc/virtual.conf');
  registerSet(vault, io);
  registerGet(vault, io);
  registerList(vault, io);
  registerVerify(vault, io);
  registerRekey(vault, io);
  vault.addHelpText(
    'after',
    `
Examples:
  psm vault list
  psm vault set hypervisor.password
  psm vault verify --json`,
  );
}

import type { Command } from 'commander';
import { EXIT } from './exit-codes.js';
import { failureOf } from './failure.js';
import { printJson, printLine, type CliIo } from './output.js';
import { addKeyOptions, addLocationOption, keyOptions, orFail, type KeyFlags } from './vault-options.js';

/** `psm audit-log verify`: psm's tamper-evident record of what it did (docs/audit-log.md). */
export function register(program: Command, io: CliIo): void {
  const group = program
    .command('audit-log')
    .description("psm's tamper-evident record of what it did to the workers' trust");
  const command = group
    .command('verify')
    .description('check every entry, the chain, the MACs and the signed checkpoint; exit 1 on any finding')
    .option(
      '--repair',
      'first cut a torn last line left by a crash (only when nothing else is wrong), on the record',
    )
    .option('--json', 'print the report as JSON');
  addKeyOptions(addLocationOption(command)).action(async (flags: KeyFlags & { repair?: boolean }) =>
    verify(io, flags),
  );
  command.addHelpText(
    'after',
    `
Exit 0 when the log verifies, 1 when anything in it was edited, removed, swapped, inserted, cut
or torn (each finding has a code and a line). Reading never writes the vault.

Examples:
  psm audit-log verify
  psm audit-log verify --json --location /usr/local/popc
  psm audit-log verify --repair     # after a crash left a torn last line`,
  );
}

async function verify(io: CliIo, flags: KeyFlags & { repair?: boolean }): Promise<void> {
  const { locationFrom } = await import('../vault/index.js');
  const { auditLogErrorCategory, openAuditLog } = await import('../psm/audit-log/index.js');
  const location = orFail(locationFrom(flags.location));
  const log = await openAuditLog(location, keyOptions(io, flags), { create: flags.repair === true });
  if (!log.ok) throw failureOf(log.error, auditLogErrorCategory);
  try {
    let report = await log.value.verify();
    let repaired = false;
    if (report.ok && flags.repair === true && report.value.tornBytes > 0) {
      const done = await log.value.repair();
      if (!done.ok) throw failureOf(done.error, auditLogErrorCategory);
      repaired = true;
      report = await log.value.verify();
    }
    if (!report.ok) throw failureOf(report.error, auditLogErrorCategory);
    const { ok, entries, head, tornBytes, findings, checkpoint } = report.value;
    if (flags.json)
      printJson(io, {
        ok,
        entries,
        head,
        tornBytes,
        repaired,
        checkpointCount: checkpoint?.count ?? null,
        findings,
      });
    else {
      for (const f of findings)
        printLine(io, `${f.line === undefined ? 'log' : `line ${f.line}`}: ${f.code}: ${f.message}`);
      printLine(
        io,
        ok
          ? `ok: ${entries} entries, head ${head}${repaired ? ' (torn last line repaired)' : ''}`
          : `FAILED: ${findings.length} finding(s) in ${entries} entries`,
      );
    }
    if (!ok) process.exitCode = EXIT.FINDINGS;
  } finally {
    log.value.close();
  }
}

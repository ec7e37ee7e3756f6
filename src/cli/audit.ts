import type { Command } from 'commander';
import { EXIT } from './exit-codes.js';
import { failureOf } from './failure.js';
import type { Interrupt } from './interrupt.js';
import { printJson, printLine, type CliIo } from './output.js';
import { addPsmOptions, openPsmContext, type PsmFlags } from './psm-context.js';

interface AuditFlags extends PsmFlags {
  readonly json?: boolean;
  readonly fix?: boolean;
  readonly workers?: string[];
}

/** `psm audit [--fix]`: what is really on the workers, read out of band (docs/audit.md). */
export function register(program: Command, io: CliIo, interrupt: Interrupt): void {
  const command = program
    .command('audit')
    .description(
      "compare every worker's authorized_keys, sshd config, host keys and gates with psm's intended state",
    )
    .option('--fix', 'write the intended state back where it drifted, then audit again')
    .option('--workers <name...>', 'only these workers (default: every worker)')
    .option('--json', 'print the report as JSON');
  addPsmOptions(command).action(async (flags: AuditFlags) => audit(io, interrupt, flags));
  command.addHelpText(
    'after',
    `
Each worker is read through the hypervisor's guest agent (out of band, not over SSH). Findings:
UNKNOWN_KEY, MISSING_KEY, LINE_WITHOUT_RESTRICT, OPTIONS_DIFFER, COMMENT_DIFFERS, EXPIRED_LINE,
DUPLICATE_KEY, INVALID_LINE, FILE_MISSING, HOST_KEY_NOT_PINNED, SSHD_CONFIG_CHANGED, GATE_CHANGED,
MODE_OR_OWNER_WRONG, NO_INTENDED_STATE, WORKER_UNREACHABLE. Exit 0 when every running worker is
clean, 1 on any finding (after --fix: any finding left). Stopped workers are listed, not read.

Examples:
  psm audit
  psm audit --json --workers popc-worker-1 popc-worker-2
  psm audit --fix`,
  );
}

async function audit(io: CliIo, interrupt: Interrupt, flags: AuditFlags): Promise<void> {
  const { runAudit, driftAuditErrorCategory } = await import('../psm/drift-audit/index.js');
  const context = await openPsmContext(io, flags);
  try {
    const report = await runAudit({
      settings: context.settings,
      driver: context.driver,
      audit: context.audit,
      fix: flags.fix === true,
      ops: { signal: interrupt.signal },
      ...(flags.workers === undefined ? {} : { workers: flags.workers }),
      onWorker: (worker) => {
        if (flags.json) return;
        if (worker.state === 'stopped') printLine(io, `${worker.worker}: stopped (not read)`);
        for (const step of worker.fixed ?? [])
          printLine(
            io,
            `${worker.worker}: fix ${step.what}: ${step.ok ? 'done' : `FAILED: ${step.message ?? ''}`}`,
          );
        for (const f of worker.findings)
          printLine(
            io,
            `${worker.worker}: ${f.code}${f.path ? ` ${f.path}` : ''}${f.line ? `:${f.line}` : ''}: ${f.message}`,
          );
        if (worker.state === 'audited' && worker.findings.length === 0)
          printLine(
            io,
            `${worker.worker}: clean${worker.fixed ? ` (fixed ${worker.foundBeforeFix?.length ?? 0} finding(s))` : ''}`,
          );
      },
    });
    if (!report.ok) throw failureOf(report.error, driftAuditErrorCategory);
    const { workers, findings } = report.value;
    if (flags.json) printJson(io, { ok: findings === 0, findings, workers });
    else
      printLine(
        io,
        findings === 0 ? `ok: ${workers.length} worker(s), no findings` : `FAILED: ${findings} finding(s)`,
      );
    if (findings > 0) process.exitCode = EXIT.FINDINGS;
  } finally {
    context.close();
  }
}

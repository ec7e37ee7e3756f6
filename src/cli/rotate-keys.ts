import type { Command } from 'commander';
import { exitCodeForCategory } from './exit-codes.js';
import { failureOf } from './failure.js';
import type { Interrupt } from './interrupt.js';
import { printError, printJson, printLine, type CliIo } from './output.js';
import { startProgress } from './progress.js';
import { addPsmOptions, openPsmContext, type PsmFlags } from './psm-context.js';
import { integerOption } from './vm-support.js';

interface RotateFlags extends PsmFlags {
  readonly admin?: boolean;
  readonly workers?: string[];
  readonly concurrency?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

const MAX_CONCURRENCY = 64;

/** `psm rotate-keys --admin`: a new admin key on every worker without ever locking psm out (docs/rotate-keys.md). */
export function register(program: Command, io: CliIo, interrupt: Interrupt): void {
  const command = program
    .command('rotate-keys')
    .description(
      "replace psm's admin key on every prepared worker, in two proven phases that a kill cannot break",
    )
    .option('--admin', "rotate psm's admin key (the default)")
    .option('--workers <name...>', 'work on these workers in this run (the switch waits for all)')
    .option('--concurrency <n>', 'workers changed at once', '2')
    .option('--dry-run', 'print the plan (or where an interrupted rotation stands) and change nothing')
    .option('--json', 'print the report as JSON');
  addPsmOptions(command).action(async (flags: RotateFlags) => rotate(io, interrupt, flags));
  command.addHelpText(
    'after',
    `
Phase 1 writes the new key beside the old one on every worker and proves it with a real SSH
login; once every worker is done psm switches its active key (LOCATION/var/psm/keys/admin_ed25519);
phase 2 removes the old key and proves it is refused. The journal LOCATION/var/psm/rotation.json
is fsync'd after every step: after a crash or kill, run the same command again and it resumes.
Workers that are off or unreachable are reported (exit 7) and retried by the next run.

Examples:
  psm rotate-keys --admin --dry-run
  psm rotate-keys --admin --concurrency 4
  psm rotate-keys --admin --workers popc-worker-1 --json`,
  );
}

async function rotate(io: CliIo, interrupt: Interrupt, flags: RotateFlags): Promise<void> {
  const concurrency = integerOption(flags.concurrency ?? '2', '--concurrency', 1, MAX_CONCURRENCY);
  const { rotateAdminKey, rotationErrorCategory } = await import('../psm/rotation/index.js');
  const context = await openPsmContext(io, flags);
  try {
    let progress: ReturnType<typeof startProgress> | undefined;
    let done = 0;
    const report = await rotateAdminKey({
      settings: context.settings,
      driver: context.driver,
      concurrency,
      dryRun: flags.dryRun === true,
      ops: { signal: interrupt.signal },
      ...(flags.workers === undefined ? {} : { workers: flags.workers }),
      onStep: (worker, step, message) => {
        if (flags.json !== true && step === 'failed')
          printLine(io, `${worker}: not rotated: ${message ?? ''}`);
        progress ??= startProgress(io, 'rotate-keys', Math.max(1, (flags.workers?.length ?? 1) * 2));
        done += 1;
        progress.update(done, `${worker} ${step}`);
      },
    });
    progress?.finish();
    if (!report.ok) throw failureOf(report.error, rotationErrorCategory);
    const r = report.value;
    if (flags.json) printJson(io, r);
    else {
      for (const [worker, step] of Object.entries(r.workers)) printLine(io, `${worker}: ${step}`);
      printLine(
        io,
        r.dryRun
          ? `dry run: rotation ${r.phase === 'adding' && Object.values(r.workers).every((s) => s === 'pending') ? 'would start' : `stands at ${r.phase}`} from ${r.oldFingerprint}`
          : r.phase === 'done'
            ? `done: admin key ${r.oldFingerprint} replaced by ${r.newFingerprint} (${r.logins} SSH logins)`
            : `stopped in phase ${r.phase}: run the same command again to resume`,
      );
    }
    const first = r.failed[0];
    if (first !== undefined) {
      if (flags.json !== true) printError(io, `psm: ${first.code}: ${r.failed.length} worker(s) not rotated`);
      process.exitCode = exitCodeForCategory(rotationErrorCategory(first.code));
    }
  } finally {
    context.close();
  }
}

import type { Command } from 'commander';
import { exitCodeForCategory } from './exit-codes.js';
import { failureOf } from './failure.js';
import type { Interrupt } from './interrupt.js';
import { printError, printJson, printLine, type CliIo } from './output.js';
import { startProgress } from './progress.js';
import { addPsmOptions, openPsmContext, type PsmFlags } from './psm-context.js';
import { integerOption } from './vm-support.js';
import { MAX_ROTATION_CONCURRENCY } from '../psm/rotation/limits.js';

interface RotateFlags extends PsmFlags {
  readonly admin?: boolean;
  readonly hostKeys?: boolean;
  readonly workers?: string[];
  readonly concurrency?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/** `psm rotate-keys --admin`: a new admin key on every worker without ever locking psm out (docs/rotate-keys.md). */
export function register(program: Command, io: CliIo, interrupt: Interrupt): void {
  const command = program
    .command('rotate-keys')
    .description(
      "replace psm's admin key on every prepared worker, in two proven phases that a kill cannot break",
    )
    .option('--admin', "rotate psm's admin key (the default without --host-keys)")
    .option(
      '--host-keys',
      'give every worker new host keys, pinned before sshd presents them (with --admin: both)',
    )
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
--host-keys: per worker, new host keys are installed unused, pinned beside the old ones in
LOCATION/var/psm/known_hosts, presented by sshd, then the old ones are unlisted, unpinned and
deleted, and the clean snapshot is taken again (never while an application holds the worker);
its journal is LOCATION/var/psm/host-key-rotation.json. The key sshd presents is always pinned.

Examples:
  psm rotate-keys --admin --dry-run
  psm rotate-keys --host-keys --admin
  psm rotate-keys --admin --concurrency 4
  psm rotate-keys --admin --workers popc-worker-1 --json`,
  );
}

async function rotate(io: CliIo, interrupt: Interrupt, flags: RotateFlags): Promise<void> {
  const concurrency = integerOption(flags.concurrency ?? '2', '--concurrency', 1, MAX_ROTATION_CONCURRENCY);
  const { rotateAdminKey, rotateHostKeys, rotationErrorCategory } = await import('../psm/rotation/index.js');
  const context = await openPsmContext(io, flags);
  const common = {
    settings: context.settings,
    driver: context.driver,
    concurrency,
    dryRun: flags.dryRun === true,
    ops: { signal: interrupt.signal },
    ...(flags.workers === undefined ? {} : { workers: flags.workers }),
  };
  const human = flags.json !== true;
  const failedStep = (worker: string, message?: string): void => {
    if (human) printError(io, `${worker}: not rotated: ${message ?? ''}`);
  };
  try {
    const out: Record<string, unknown> = {};
    const failures: { code: Parameters<typeof rotationErrorCategory>[0] }[] = [];
    if (flags.hostKeys === true) {
      let progress: ReturnType<typeof startProgress> | undefined;
      let steps = 0;
      const report = await rotateHostKeys({
        ...common,
        onStep: (worker, step, message) => {
          if (step === 'failed') return failedStep(worker, message);
          progress ??= human ? startProgress(io, 'host keys', (flags.workers?.length ?? 1) * 5) : undefined;
          steps += 1;
          progress?.update(steps, `${worker} ${step}`);
        },
      });
      progress?.finish();
      if (!report.ok) throw failureOf(report.error, rotationErrorCategory);
      out.hostKeys = report.value;
      failures.push(...report.value.failed);
      if (human) {
        for (const [worker, step] of Object.entries(report.value.workers))
          printLine(io, `${worker}: host keys ${step}`);
        printLine(
          io,
          report.value.done
            ? 'host keys: done'
            : 'host keys: not finished: run the same command again to resume',
        );
      }
    }
    if (flags.admin === true || flags.hostKeys !== true) {
      let progress: ReturnType<typeof startProgress> | undefined;
      let done = 0;
      const report = await rotateAdminKey({
        ...common,
        onStart: (workers) => {
          if (human && flags.dryRun !== true) progress = startProgress(io, 'admin key', workers.length * 2);
        },
        onStep: (worker, step, message) => {
          if (step === 'failed') return failedStep(worker, message);
          done += step === 'removed' ? 2 : 1;
          progress?.update(done, `${worker} ${step}`);
        },
      });
      progress?.finish();
      if (!report.ok) throw failureOf(report.error, rotationErrorCategory);
      const r = report.value;
      out.admin = r;
      failures.push(...r.failed);
      if (human) {
        for (const [worker, step] of Object.entries(r.workers)) printLine(io, `${worker}: admin key ${step}`);
        printLine(
          io,
          r.dryRun
            ? `dry run: admin rotation ${Object.values(r.workers).every((s) => s === 'pending') ? 'would start' : `stands at ${r.phase}`} from ${r.oldFingerprint}`
            : r.phase === 'done'
              ? `admin key: done: ${r.oldFingerprint} replaced by ${r.newFingerprint} (${r.logins} SSH logins)`
              : `admin key: stopped in phase ${r.phase}: run the same command again to resume`,
        );
      }
    }
    // One kind asked for: its report as it is; both: both, by kind.
    if (!human) printJson(io, Object.keys(out).length === 1 ? Object.values(out)[0] : out);
    const first = failures[0];
    if (first !== undefined) {
      if (human) printError(io, `psm: ${first.code}: ${failures.length} worker(s) not rotated`);
      process.exitCode = exitCodeForCategory(rotationErrorCategory(first.code));
    }
  } finally {
    context.close();
  }
}

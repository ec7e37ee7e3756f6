import type { Command } from 'commander';
import { askDaemon, clientCommand, type ClientFlags } from './daemon-client.js';
import { printJson, printLine, type CliIo } from './output.js';
import { examples } from './vm-support.js';

interface StatusView {
  workers: Record<string, number>;
  total: number;
  free: number;
  apps: number;
  waiting: number;
  draining: boolean;
  settings: { maxVms: number; keepFree: number };
}

function statusLine(s: StatusView): string {
  const states = Object.entries(s.workers)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
  return `${s.total}/${s.settings.maxVms} workers (${states || 'none'}), ${s.free} free (keep ${s.settings.keepFree}), ${s.apps} application(s), ${s.waiting} waiting${s.draining ? ', DRAINING' : ''}`;
}

/** `psm workers list`: the daemon's workers. */
export function registerWorkers(program: Command, io: CliIo): void {
  const workers = program.command('workers').description("The pool's worker VMs");
  clientCommand(workers.command('list').description('List the workers, their state and application'))
    .addHelpText('after', examples(['psm workers list', 'psm workers list --json']))
    .action(async (flags: ClientFlags) => {
      const answer = (await askDaemon(flags, 'GET', '/v1/workers')) as {
        workers: {
          name: string;
          state: string;
          app: string | null;
          ssh: { host: string; port: number } | null;
        }[];
      };
      if (flags.json === true) return printJson(io, answer);
      if (answer.workers.length === 0) printLine(io, 'no workers');
      for (const w of answer.workers)
        printLine(
          io,
          `${w.name}\t${w.state}\t${w.app ?? '-'}\t${w.ssh === null ? '-' : `${w.ssh.host}:${w.ssh.port}`}`,
        );
    });
}

/** `psm pool status|fill|drain`: the daemon's pool. */
export function registerPool(program: Command, io: CliIo): void {
  const pool = program.command('pool').description('The warm pool of prepared workers');
  clientCommand(pool.command('status').description('Workers by state, free count, applications'))
    .addHelpText('after', examples(['psm pool status', 'psm pool status --json']))
    .action(async (flags: ClientFlags) => {
      const answer = (await askDaemon(flags, 'GET', '/v1/pool')) as StatusView;
      if (flags.json === true) printJson(io, answer);
      else printLine(io, statusLine(answer));
    });
  clientCommand(pool.command('fill').description('Reopen a drained pool and clone up to keep_free now'))
    .addHelpText('after', examples(['psm pool fill']))
    .action(async (flags: ClientFlags) => {
      const answer = (await askDaemon(flags, 'POST', '/v1/pool/fill')) as {
        started: number;
        status: StatusView;
      };
      if (flags.json === true) printJson(io, answer);
      else printLine(io, `started ${answer.started} clone(s); ${statusLine(answer.status)}`);
    });
  clientCommand(
    pool
      .command('drain')
      .description('No new applications; destroy the free workers (applications keep theirs until they end)'),
  )
    .addHelpText('after', examples(['psm pool drain', 'psm pool fill    # reopen']))
    .action(async (flags: ClientFlags) => {
      const answer = (await askDaemon(flags, 'POST', '/v1/pool/drain')) as {
        destroyed: number;
        status: StatusView;
      };
      if (flags.json === true) printJson(io, answer);
      else printLine(io, `destroyed ${answer.destroyed} free worker(s); ${statusLine(answer.status)}`);
    });
}

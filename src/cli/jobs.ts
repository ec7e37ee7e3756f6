import type { Command } from 'commander';
import { askDaemon, clientCommand, type ClientFlags } from './daemon-client.js';
import { printJson, printLine, type CliIo } from './output.js';
import { examples, integerOption } from './vm-support.js';

interface ReserveFlags extends ClientFlags {
  job?: string;
  key: string[];
  initiatorKey: string[];
  wait?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

// `psm reserve|release|end APP` and `psm apps list`: an application's worker, through the daemon.

export function registerReserve(program: Command, io: CliIo): void {
  clientCommand(
    program
      .command('reserve')
      .description(
        'Give application APP its worker on this node (the same one for every job), installing its keys',
      )
      .argument('<app>', 'POP-C++ application ID')
      .option('--job <id>', 'the job this reserve is for (default "default")')
      .option('--key <pubfile>', "the application's main-node public key (repeatable)", collect, [])
      .option('--initiator-key <pubfile>', "an initiator's public key (repeatable)", collect, [])
      .option('--wait <seconds>', 'wait this long for a free worker, then POOL_EXHAUSTED (default 60)'),
  )
    .addHelpText(
      'after',
      examples([
        'psm reserve app-42 --job 1 --key main-node.pub',
        'psm reserve app-42 --job 2 --json     # the same worker as job 1',
      ]),
    )
    .action(async (app: string, flags: ReserveFlags) => {
      const { readPublicKeyOption } = await import('./public-key-option.js');
      const keys = [];
      for (const [role, files] of [
        ['main-node', flags.key],
        ['initiator', flags.initiatorKey],
      ] as const)
        for (const file of files) {
          const key = await readPublicKeyOption(file);
          keys.push({ role, key: `${key.type} ${key.base64}` });
        }
      const waitMs =
        flags.wait === undefined ? undefined : integerOption(flags.wait, '--wait', 0, 900) * 1000;
      const answer = (await askDaemon(flags, 'POST', '/v1/reserve', {
        app,
        ...(flags.job === undefined ? {} : { job: flags.job }),
        keys,
        ...(waitMs === undefined ? {} : { waitMs }),
      })) as { worker: string; job: string; ssh: { host: string; port: number } | null; hostKeys: string[] };
      if (flags.json === true) return printJson(io, answer);
      const ssh = answer.ssh === null ? 'no ssh endpoint' : `ssh ${answer.ssh.host}:${answer.ssh.port}`;
      printLine(io, `${app} job ${answer.job}: ${answer.worker} (${ssh})`);
      for (const key of answer.hostKeys) printLine(io, `host key: ${key}`);
    });
}

export function registerRelease(program: Command, io: CliIo): void {
  clientCommand(
    program
      .command('release')
      .description('Release one job of application APP; the application keeps its worker')
      .argument('<app>')
      .requiredOption('--job <id>', 'the job to release'),
  )
    .addHelpText('after', examples(['psm release app-42 --job 1']))
    .action(async (app: string, flags: ClientFlags & { job: string }) => {
      const answer = (await askDaemon(flags, 'POST', '/v1/release', { app, job: flags.job })) as {
        jobs: number;
      };
      if (flags.json === true) printJson(io, answer);
      else printLine(io, `released ${app} job ${flags.job} (${answer.jobs} job(s) left)`);
    });
}

export function registerEnd(program: Command, io: CliIo): void {
  clientCommand(
    program
      .command('end')
      .description(
        'End application APP: its keys are removed and its worker reverted (or destroyed) and returned to the pool',
      )
      .argument('<app>'),
  )
    .addHelpText('after', examples(['psm end app-42', 'psm end app-42 --json']))
    .action(async (app: string, flags: ClientFlags) => {
      const answer = (await askDaemon(flags, 'POST', '/v1/end', { app })) as {
        worker: string;
        outcome: string;
      };
      if (flags.json === true) printJson(io, answer);
      else printLine(io, `ended ${app}: ${answer.worker} ${answer.outcome}`);
    });
}

export function registerApps(program: Command, io: CliIo): void {
  const apps = program.command('apps').description('Applications holding a worker on this node');
  clientCommand(apps.command('list').description('List the applications and their workers'))
    .addHelpText('after', examples(['psm apps list', 'psm apps list --json']))
    .action(async (flags: ClientFlags) => {
      const answer = (await askDaemon(flags, 'GET', '/v1/apps')) as {
        apps: { app: string; worker: string; phase: string; jobs: string[] }[];
      };
      if (flags.json === true) return printJson(io, answer);
      if (answer.apps.length === 0) printLine(io, 'no application holds a worker');
      for (const a of answer.apps)
        printLine(io, `${a.app}\t${a.worker}\t${a.phase}\t${a.jobs.length} job(s)`);
    });
}

import type { Command } from 'commander';
import { printJson, printLine } from './output.js';
import { examples, unwrap, type VmFlags, type VmVerbs } from './vm-support.js';

/** `psm vm status|inspect`: what a worker is doing; inspect adds the driver's details. */
export function registerStatus(vm: Command, verbs: VmVerbs): void {
  const { io } = verbs;
  for (const [verb, detailed] of [
    ['status', false],
    ['inspect', true],
  ] as const) {
    verbs
      .command(
        vm.command(verb),
        detailed ? 'Everything psm knows about a worker' : 'Power state, agent and address of a worker',
      )
      .argument('<name>')
      .addHelpText('after', examples([`psm vm ${verb} w1`, `psm vm ${verb} w1 --json`]))
      .action(async (name: string, flags: VmFlags) =>
        verbs.withWorker(flags, name, async (worker) => {
          const ops = verbs.ops(flags);
          const status = unwrap(await worker.status({ ...ops, probeAgent: true }));
          const address = status.agent === 'ready' ? await worker.readAddress(ops) : undefined;
          const ip = address?.ok === true ? address.value : null;
          const value = {
            name,
            power: status.power,
            agent: status.agent,
            address: ip,
            ssh: status.ssh ?? null,
            ...(detailed ? { details: status.details } : {}),
          };
          if (flags.json) return printJson(io, value);
          printLine(
            io,
            `${name}: ${status.power}, agent ${status.agent ?? 'unknown (in use by another process)'}, address ${ip?.address ?? 'none'}${status.ssh ? `, ssh ${status.ssh.host}:${status.ssh.port}` : ''}`,
          );
          if (detailed)
            for (const [key, v] of Object.entries(status.details)) printLine(io, `  ${key}: ${String(v)}`);
        }),
      );
  }
}

import type { Command } from 'commander';
import { examples, unwrap, type VmFlags, type VmVerbs } from './vm-support.js';

/** `psm vm snapshot|revert`: a named snapshot, and going back to it. */
export function registerSnapshot(vm: Command, verbs: VmVerbs): void {
  for (const [verb, what] of [
    ['snapshot', 'Save the worker (disk, memory, devices) as a named snapshot'],
    ['revert', 'Restore a snapshot, resynchronise the agent and renew the DHCP lease'],
  ] as const) {
    verbs
      .command(vm.command(verb), what)
      .argument('<name>')
      .option('--snapshot <name>', 'snapshot name ([A-Za-z0-9_-])', 'clean')
      .addHelpText('after', examples([`psm vm ${verb} w1`, `psm vm ${verb} w1 --snapshot before-job --json`]))
      .action(async (name: string, flags: VmFlags & { snapshot: string }) =>
        verbs.withWorker(flags, name, async (worker) => {
          const ops = verbs.ops(flags);
          unwrap(
            verb === 'snapshot'
              ? await worker.takeSnapshot(flags.snapshot, ops)
              : await worker.revertToSnapshot(flags.snapshot, ops),
          );
          verbs.report(
            flags,
            { name, snapshot: flags.snapshot, action: verb },
            `${verb === 'snapshot' ? 'saved' : 'reverted to'} snapshot ${flags.snapshot} of ${name}`,
          );
        }),
      );
  }
}

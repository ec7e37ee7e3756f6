import type { Command } from 'commander';
import { MAX_GRACE_SECONDS } from '../guest-ops/limits.js';
import { examples, integerOption, unwrap, type VmFlags, type VmVerbs } from './vm-support.js';

/** `psm vm start|stop`: power. */
export function registerStart(vm: Command, verbs: VmVerbs): void {
  verbs
    .command(vm.command('start'), 'Power a worker on and wait until its guest agent answers')
    .argument('<name>')
    .option('--no-wait', 'return as soon as QEMU runs, without waiting for the agent')
    .addHelpText('after', examples(['psm vm start w1', 'psm vm start w1 --no-wait --json']))
    .action(async (name: string, flags: VmFlags & { wait: boolean }) =>
      verbs.withWorker(flags, name, async (worker) => {
        const ops = verbs.ops(flags);
        unwrap(await worker.powerOn(ops));
        if (flags.wait) unwrap(await worker.waitForAgent(ops));
        const status = unwrap(await worker.status());
        const address = flags.wait ? await worker.readAddress() : undefined;
        const ip = address?.ok === true ? address.value.address : null;
        const ssh = status.ssh ? `${status.ssh.host}:${status.ssh.port}` : 'none';
        verbs.report(
          flags,
          {
            name,
            power: status.power,
            agent: flags.wait ? 'ready' : 'not-waited',
            address: ip,
            ssh: status.ssh ?? null,
            ...status.details,
          },
          `started ${name} (${status.details.accelerator ?? 'qemu'})${flags.wait ? `, agent ready, address ${ip ?? 'none'}` : ''}, ssh on ${ssh}`,
        );
      }),
    );
}

export function registerStop(vm: Command, verbs: VmVerbs): void {
  verbs
    .command(vm.command('stop'), 'Power off: ACPI shutdown, then QEMU quit after the grace period')
    .argument('<name>')
    .option('--grace <seconds>', 'how long the guest may take to shut down cleanly', '30')
    .addHelpText(
      'after',
      examples(['psm vm stop w1', 'psm vm stop w1 --grace 0   # no ACPI shutdown: quit at once']),
    )
    .action(async (name: string, flags: VmFlags & { grace: string }) => {
      const graceMs = integerOption(flags.grace, '--grace', 0, MAX_GRACE_SECONDS) * 1000;
      await verbs.withWorker(flags, name, async (worker) => {
        unwrap(await worker.powerOff({ ...verbs.ops(flags, graceMs + 30_000), graceMs }));
        verbs.report(flags, { name, power: 'stopped' }, `stopped ${name}`);
      });
    });
}

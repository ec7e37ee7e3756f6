import type { Command } from 'commander';
import { join } from 'node:path';
import { defaultWorkerImageDirectory, openTemplate } from '../guest-ops/driver-factory.js';
import { MAX_MEMORY_MIB, MIN_MEMORY_MIB } from '../guest-ops/limits.js';
import { printJson, printLine } from './output.js';
import { examples, integerOption, unwrap, type VmFlags, type VmVerbs } from './vm-support.js';

/** `psm vm clone|destroy|list`: which workers exist. */
export function registerClone(vm: Command, verbs: VmVerbs): void {
  verbs
    .command(
      vm.command('clone'),
      'Make a linked clone of the worker image (a qcow2 overlay; the image is never written)',
    )
    .argument('<name>', 'worker name ([A-Za-z0-9_-], at most 63)')
    .option('--image <dir>', 'worker image directory (psm image build)', defaultWorkerImageDirectory())
    .option('--memory <mib>', 'guest memory in MiB', '256')
    .addHelpText(
      'after',
      examples([
        'psm vm clone w1',
        'psm vm clone w2 --image /var/lib/psm/worker-image --vm-dir /var/lib/psm/vms',
        'psm vm clone w3 --driver vsphere --location /usr/local/popc',
      ]),
    )
    .action(async (name: string, flags: VmFlags & { image: string; memory: string }) => {
      const memoryMiB = integerOption(flags.memory, '--memory', MIN_MEMORY_MIB, MAX_MEMORY_MIB);
      const opened = await verbs.settings(flags, memoryMiB);
      const source = opened.template ?? { kind: 'worker-image' as const, directory: flags.image };
      const template = unwrap(await openTemplate(source));
      const driver = await verbs.driver(flags, memoryMiB);
      const worker = unwrap(await driver.cloneWorker(name, template, verbs.ops(flags)));
      await worker.close();
      const from = source.kind === 'worker-image' ? source.directory : `${source.vm}@${source.snapshot}`;
      const directory =
        flags.driver === 'vsphere'
          ? `${await verbs.location(flags)}/${name}`
          : join(await verbs.location(flags), name);
      verbs.report(flags, { name, cloned: true, directory }, `cloned ${name} from ${from}`);
    });
}

export function registerDestroy(vm: Command, verbs: VmVerbs): void {
  verbs
    .command(vm.command('destroy'), 'Stop a worker if it runs and delete everything its clone created')
    .argument('<name>')
    .addHelpText('after', examples(['psm vm destroy w1']))
    .action(async (name: string, flags: VmFlags) => {
      const driver = await verbs.driver(flags);
      unwrap(await driver.destroyWorker(name, verbs.ops(flags)));
      verbs.report(flags, { name, destroyed: true }, `destroyed ${name}`);
    });
}

export function registerList(vm: Command, verbs: VmVerbs): void {
  const { io } = verbs;
  verbs
    .command(vm.command('list'), 'List the workers in the VM directory')
    .addHelpText('after', examples(['psm vm list', 'psm vm list --vm-dir /var/lib/psm/vms --json']))
    .action(async (flags: VmFlags) => {
      const driver = await verbs.driver(flags);
      const workers = unwrap(await driver.listWorkers());
      const vmDir = await verbs.location(flags);
      if (flags.json) return printJson(io, { vmDir, workers });
      if (workers.length === 0) printLine(io, `no workers in ${vmDir}`);
      for (const w of workers) printLine(io, `${w.name}\t${w.power}`);
    });
}

import type { Command } from 'commander';
import type { Interrupt } from './interrupt.js';
import type { CliIo } from './output.js';
import { registerClone, registerDestroy, registerList } from './vm-clone.js';
import { registerCopy } from './vm-copy.js';
import { registerExec } from './vm-exec.js';
import { registerStart, registerStop } from './vm-power.js';
import { registerSnapshot } from './vm-snapshot.js';
import { registerStatus } from './vm-status.js';
import { VmVerbs } from './vm-support.js';

/**
 * `psm vm ...`: worker VMs by hand, through the guest-ops driver (docs/guest-ops.md). One file per
 * verb group; they share src/cli/vm-support.ts. The order below is the order --help lists them.
 */
export function register(program: Command, io: CliIo, interrupt: Interrupt): void {
  const vm = program
    .command('vm')
    .description('Clone, start, inspect, drive, revert and destroy worker VMs (QEMU or vSphere)');
  const verbs = new VmVerbs(io, interrupt);
  // The vSphere password copy lives only as long as the command.
  vm.hook('postAction', () => verbs.dispose());
  registerClone(vm, verbs);
  registerStart(vm, verbs);
  registerStatus(vm, verbs);
  registerExec(vm, verbs);
  registerCopy(vm, verbs);
  registerSnapshot(vm, verbs);
  registerStop(vm, verbs);
  registerDestroy(vm, verbs);
  registerList(vm, verbs);
}

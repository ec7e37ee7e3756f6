import type { Command } from 'commander';
import type { Interrupt } from './interrupt.js';
import type { CliIo } from './output.js';
import { registerClone, registerDestroy, registerList } from './vm-clone.js';
import { registerCopy } from './vm-copy.js';
import { registerExec } from './vm-exec.js';
import { registerStart, registerStop } from './vm-power.js';
import { registerSnapshot } from './vm-snapshot.js';
import { registerStatus } from './vm-status.js';
import type { VmContext } from './vm-support.js';

/**
 * `psm vm ...`: worker VMs by hand, through the guest-ops driver (docs/guest-ops.md). One file per
 * verb group; they share src/cli/vm-support.ts. The order below is the order --help lists them.
 */
export function register(program: Command, io: CliIo, interrupt: Interrupt): void {
  const vm = program
    .command('vm')
    .description('Clone, start, inspect, drive, revert and destroy worker VMs (QEMU)');
  const context: VmContext = { io, interrupt };
  registerClone(vm, context);
  registerStart(vm, context);
  registerStatus(vm, context);
  registerExec(vm, context);
  registerCopy(vm, context);
  registerSnapshot(vm, context);
  registerStop(vm, context);
  registerDestroy(vm, context);
  registerList(vm, context);
}

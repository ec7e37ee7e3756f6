import type { Command } from 'commander';
import type { Interrupt } from './interrupt.js';
import type { CliIo } from './output.js';

/**
 * The command groups psm has. Each group lives in its own file under src/cli/ and exports one
 * `register(program, io, interrupt)`; add it here (one entry: its command name and its file)
 * and nowhere else. `interrupt.signal` is Ctrl-C/SIGTERM for commands that can stop cleanly
 * (src/cli/interrupt.ts).
 */
export type Registrar = (program: Command, io: CliIo, interrupt: Interrupt) => void;

export interface CommandGroup {
  /** The group's command name, as typed after `psm`. */
  readonly name: string;
  /**
   * Imports the group's file. Only the group a command line names is loaded (its libraries come
   * with it): `psm known-hosts match` does not load the vault, libsodium or the VM drivers.
   */
  readonly load: () => Promise<Registrar>;
}

// In the order --help lists them: reading keys, writing them, the vault and the audit log, then the VMs.
export const commandGroups: readonly CommandGroup[] = [
  { name: 'keys', load: async () => (await import('./keys.js')).register },
  { name: 'known-hosts', load: async () => (await import('./known-hosts.js')).register },
  { name: 'policy', load: async () => (await import('./policy.js')).register },
  { name: 'init', load: async () => (await import('./init.js')).register },
  { name: 'vault', load: async () => (await import('./vault.js')).register },
  { name: 'audit', load: async () => (await import('./audit.js')).register },
  { name: 'rotate-keys', load: async () => (await import('./rotate-keys.js')).register },
  { name: 'audit-log', load: async () => (await import('./audit-log.js')).register },
  { name: 'image', load: async () => (await import('./image.js')).register },
  { name: 'vm', load: async () => (await import('./vm.js')).register },
  { name: 'worker', load: async () => (await import('./worker.js')).register },
  { name: 'daemon', load: async () => (await import('./daemon.js')).register },
  { name: 'reserve', load: async () => (await import('./jobs.js')).registerReserve },
  { name: 'release', load: async () => (await import('./jobs.js')).registerRelease },
  { name: 'end', load: async () => (await import('./jobs.js')).registerEnd },
  { name: 'apps', load: async () => (await import('./jobs.js')).registerApps },
  { name: 'workers', load: async () => (await import('./pool.js')).registerWorkers },
  { name: 'pool', load: async () => (await import('./pool.js')).registerPool },
  { name: 'run-main', load: async () => (await import('./run-main.js')).register },
  { name: 'popc', load: async () => (await import('./popc.js')).register },
];

/**
 * The groups to load for `args` (the arguments after `psm`): the group the first one names, or
 * every group when it names none (`--help`, `--version`, `help`, a typo that commander answers
 * with the list of commands).
 */
export function groupsFor(args: readonly string[]): readonly CommandGroup[] {
  const named = commandGroups.find((group) => group.name === args[0]);
  return named === undefined ? commandGroups : [named];
}

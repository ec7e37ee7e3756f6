import type { Command } from 'commander';
import { register as init } from './init.js';
import { register as vault } from './vault.js';
import type { Interrupt } from './interrupt.js';
import type { CliIo } from './output.js';
import { register as knownHosts } from './known-hosts.js';
import { register as image } from './image.js';
import { register as vm } from './vm.js';
import { register as policy } from './policy.js';
import { register as keys } from './keys.js';
import { register as auditLog } from './audit-log.js';
import { register as audit } from './audit.js';
import { register as rotateKeys } from './rotate-keys.js';

/**
 * The command groups psm has. Each group lives in its own file under src/cli/ and exports one
 * `register(program, io, interrupt)`; add it here (one import, one list entry) and nowhere else.
 * `interrupt.signal` is Ctrl-C/SIGTERM for commands that can stop cleanly (src/cli/interrupt.ts).
 */
export type Registrar = (program: Command, io: CliIo, interrupt: Interrupt) => void;

// In the order --help lists them: reading keys, writing them, the vault and the audit log, then the VMs.
export const registrars: readonly Registrar[] = [keys, knownHosts, policy, init, vault, audit, rotateKeys, auditLog, image, vm];

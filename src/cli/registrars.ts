import type { Command } from 'commander';
import type { CliIo } from './output.js';
import { register as knownHosts } from './known-hosts.js';

/**
 * The command groups psm has. Each group lives in its own file under src/cli/ and exports one
 * `register(program, io)`; add it here (one import, one list entry) and nowhere else.
 */
export type Registrar = (program: Command, io: CliIo) => void;

export const registrars: readonly Registrar[] = [knownHosts];

import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { CliFailure } from './failure.js';
import { Interrupt } from './interrupt.js';
import { processIo, type CliIo } from './output.js';
import { registrars } from './registrars.js';

export function buildProgram(io: CliIo, interrupt: Interrupt = new Interrupt()): Command {
  const program = new Command('psm')
    .description('Security manager for virtualized POP-C++ grid nodes')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage and examples)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride()
    // Each command gets everything after its name: `psm vm exec NAME PATH ARGS...` can then hand
    // the program's own options (`-a`, even `-V`) to the guest instead of psm reading them.
    .enablePositionalOptions();
  for (const register of registrars) register(program, io, interrupt);
  // Every subcommand reports usage errors through main() instead of exiting the process itself.
  for (const command of allCommands(program)) command.exitOverride();
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...allCommands(child)]);
}

/** Runs psm with `argv` (as process.argv) and returns the exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const interrupt = new Interrupt();
  const program = buildProgram(io, interrupt);
  const json = argv.includes('--json');
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (error) {
    return reportFailure(error, io, json);
  } finally {
    interrupt.dispose();
  }
}

function reportFailure(error: unknown, io: CliIo, json: boolean): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; they are successes to a user.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.OK;
    if (error.code === 'commander.help') return EXIT.OK;
    return EXIT.USAGE;
  }
  if (error instanceof CliFailure) {
    if (json) io.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
    io.stderr.write(`psm: ${error.code}: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`psm: INTERNAL: ${message} (this is a bug in psm; set PSM_DEBUG=1 for details)\n`);
  if (process.env.PSM_DEBUG === '1' && error instanceof Error && error.stack)
    io.stderr.write(`${error.stack}\n`);
  return EXIT.INTERNAL;
}

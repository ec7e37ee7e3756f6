import { Command, CommanderError } from 'commander';
import { escapeLine, escapeLines } from '../common/terminal-text.js';
import { EXIT } from './exit-codes.js';
import { CliFailure } from './failure.js';
import { Interrupt } from './interrupt.js';
import { watchClosedOutput, type OutputWatch } from './closed-output.js';
import { processIo, type CliIo } from './output.js';
import { groupsFor } from './registrars.js';

/** The program with the command groups `args` (the arguments after `psm`) can reach. */
export async function buildProgram(
  io: CliIo,
  interrupt: Interrupt = new Interrupt(),
  args: readonly string[] = [],
): Promise<Command> {
  const program = new Command('psm')
    .description('Security manager for virtualized POP-C++ grid nodes')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage and examples)')
    .configureOutput({
      // Help is psm's own text, but errors quote the user's argv: shown escaped.
      writeOut: (text) => io.stdout.write(escapeLines(text)),
      writeErr: (text) => io.stderr.write(escapeLines(text)),
    })
    .exitOverride()
    // Each command gets everything after its name: `psm vm exec NAME PATH ARGS...` can then hand
    // the program's own options (`-a`, even `-V`) to the guest instead of psm reading them.
    .enablePositionalOptions();
  const registrars = await Promise.all(groupsFor(args).map((group) => group.load()));
  for (const register of registrars) register(program, io, interrupt);
  for (const command of [program, ...allCommands(program)]) {
    // Every subcommand reports usage errors through main() instead of exiting the process itself.
    command.exitOverride();
    reportUnknownOptionsByName(command);
  }
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...allCommands(child)]);
}

/**
 * `--password=hunter2` is an unknown option whose text holds a secret: commander would quote it
 * whole. Only the name is reported (`--password`; `-p` for `-phunter2`).
 */
function reportUnknownOptionsByName(command: Command): void {
  const target = command as unknown as { unknownOption(flag: string): void };
  const original = target.unknownOption.bind(command);
  target.unknownOption = (flag: string) => original(optionName(flag));
}

export function optionName(flag: string): string {
  if (flag.startsWith('--')) {
    const equals = flag.indexOf('=');
    return equals === -1 ? flag : flag.slice(0, equals);
  }
  return flag.startsWith('-') ? flag.slice(0, 2) : flag;
}

/** Runs psm with `argv` (as process.argv) and returns the exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const output = watchClosedOutput(io);
  const interrupt = new Interrupt();
  const json = argv.includes('--json');
  let code: number;
  try {
    const program = await buildProgram(io, interrupt, argv.slice(2));
    await program.parseAsync([...argv]);
    code = typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (error) {
    code = reportFailure(error, io, json, output);
  } finally {
    interrupt.dispose();
  }
  return output.exitCode() ?? code;
}

function reportFailure(error: unknown, io: CliIo, json: boolean, output: OutputWatch): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; they are successes to a user.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.OK;
    if (error.code === 'commander.help') return EXIT.OK;
    return EXIT.USAGE;
  }
  if (error instanceof CliFailure) {
    if (json && !output.stdoutClosed())
      io.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
    if (!output.stderrClosed()) io.stderr.write(`psm: ${error.code}: ${escapeLine(error.message)}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (!output.stderrClosed()) {
    io.stderr.write(
      `psm: INTERNAL: ${escapeLine(message)} (this is a bug in psm; set PSM_DEBUG=1 for details)\n`,
    );
    if (process.env.PSM_DEBUG === '1' && error instanceof Error && error.stack)
      io.stderr.write(`${error.stack}\n`);
  }
  return EXIT.INTERNAL;
}

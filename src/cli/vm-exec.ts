import { Command, type Option, type ParseOptionsResult } from 'commander';
import { printJson, writeGuestOutput } from './output.js';
import { examples, isUtf8, readStdin, unwrap, type VmFlags, type VmVerbs } from './vm-support.js';

/** `psm vm exec NAME PATH ARGS...`: a program in the guest, by path and argv through the agent. */
export function registerExec(vm: Command, verbs: VmVerbs): void {
  const { io } = verbs;
  // addCommand does not copy what command() would (output streams, help and error settings).
  const exec = new GuestProgramCommand('exec').copyInheritedSettings(vm);
  vm.addCommand(exec);
  verbs
    .command(exec, 'Run a program in the guest (path + argv through the agent; no shell)')
    .argument('<name>')
    .argument('<path>', 'absolute path of the program in the guest')
    .argument('[args...]', 'its arguments, passed verbatim (options included)')
    .option('--stdin', "send psm's stdin to the program", false)
    .option('--env <entry...>', 'NAME=value environment entries')
    .addHelpText(
      'after',
      `
psm's options go before PATH; everything after PATH is the program's, passed verbatim, options
included (a -- before PATH is accepted too, and needed after --env). psm exits 0 when the program
exits 0, and 1 (with the code on stderr or in --json) when it exits non-zero or dies of a signal.${examples([
        'psm vm exec w1 /bin/uname -a',
        'psm vm exec w1 -- /bin/ls -la /persist',
        "psm vm exec w1 --timeout 10 --json /bin/busybox printf '%s\\n' 'a b' '$(not expanded)'",
        'echo hello | psm vm exec w1 --stdin /bin/cat',
      ])}`,
    )
    .action(
      async (
        name: string,
        path: string,
        args: string[],
        flags: VmFlags & { stdin: boolean; env?: string[] },
      ) => {
        const stdin = flags.stdin ? await readStdin(io) : undefined;
        await verbs.withWorker(flags, name, async (worker) => {
          const ran = unwrap(
            await worker.runProgram(path, args, {
              ...verbs.ops(flags),
              ...(stdin ? { stdin } : {}),
              ...(flags.env ? { env: flags.env } : {}),
            }),
          );
          if (flags.json) {
            const text = isUtf8(ran.stdout) && isUtf8(ran.stderr);
            const enc = (b: Uint8Array): string => Buffer.from(b).toString(text ? 'utf8' : 'base64');
            printJson(io, {
              exitCode: ran.exitCode,
              signal: ran.signal,
              truncated: ran.truncated,
              encoding: text ? 'utf8' : 'base64',
              stdout: enc(ran.stdout),
              stderr: enc(ran.stderr),
            });
          } else {
            writeGuestOutput(io.stdout, ran.stdout);
            writeGuestOutput(io.stderr, ran.stderr);
            if (ran.exitCode !== 0)
              io.stderr.write(
                `psm: the program ${ran.exitCode === null ? `died of signal ${ran.signal}` : `exited with ${ran.exitCode}`}\n`,
              );
          }
          if (ran.exitCode !== 0) process.exitCode = EXIT_PROGRAM_FAILED;
        });
      },
    );
}

/** The program's own failure is a finding (exit 1), not an error of psm's. */
const EXIT_PROGRAM_FAILED = 1;

/**
 * A command whose second operand is a program: once psm has read NAME and PATH, everything after
 * is the program's argv, so `exec w1 /bin/uname -a` hands `-a` to uname instead of commander
 * refusing it as psm's option. Done by putting the `--` a user would otherwise have to type after
 * PATH; psm's options before PATH are read as before, with their values and --env's list.
 */
class GuestProgramCommand extends Command {
  override parseOptions(argv: string[]): ParseOptionsResult {
    const start = programArgumentsStart(argv, this.options);
    return super.parseOptions(
      start === undefined ? argv : [...argv.slice(0, start), '--', ...argv.slice(start)],
    );
  }
}

/** The index of the first argument after PATH, or undefined (a `--` first, or no PATH yet). */
export function programArgumentsStart(
  argv: readonly string[],
  options: readonly Option[],
): number | undefined {
  let operands = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return undefined;
    if (arg.length > 1 && arg.startsWith('-')) {
      const long = arg.startsWith('--');
      const option = long
        ? options.find((o) => o.long === arg.split('=')[0])
        : options.find((o) => o.short === arg.slice(0, 2));
      const inlineValue = long ? arg.includes('=') : arg.length > 2;
      if (option?.required === true && !inlineValue) i++;
      // A list option (--env A=1 B=2) takes every following word up to the next option, as commander does.
      if (option?.variadic === true)
        while (i + 1 < argv.length && !(argv[i + 1] as string).startsWith('-')) i++;
      continue;
    }
    operands++;
    if (operands === 2) return i + 1 < argv.length ? i + 1 : undefined;
  }
  return undefined;
}

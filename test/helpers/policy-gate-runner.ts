/**
 * Runs a generated gate's decision for many SSH_ORIGINAL_COMMAND values in one real shell
 * process (dash or busybox sh): the generated script minus its final `psm_gate_main` call, then a
 * loop that runs that call in a subshell per case. The gate's own code runs unchanged; only
 * `logger` is replaced by a no-op so thousands of refusals do not go to the host's syslog.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runProgram } from '../../src/common/run-program.js';
import { GATE_MAIN_CALL } from '../../src/psm/gate/index.js';

export const SHELLS: readonly { name: string; file: string; args: readonly string[] }[] = [
  { name: 'dash', file: '/bin/dash', args: [] },
  { name: 'busybox sh', file: '/bin/busybox', args: ['sh'] },
];

const MAX_BATCH_CHARS = 96 * 1024;
const MAX_BATCH_CASES = 400;

const LOOP = [
  'logger() { :; }',
  'for psm_case in "$@"; do',
  `\t( SSH_ORIGINAL_COMMAND=$psm_case; ${GATE_MAIN_CALL} ) >/dev/null 2>&1`,
  '\tprintf \'%s\\n\' "$?"',
  'done',
  '',
].join('\n');

// The same, reading one command per line from the file named by $1: for raw bytes that are not
// valid UTF-8, which cannot travel in a JavaScript string argument.
const FILE_LOOP = [
  'logger() { :; }',
  'while IFS= read -r psm_case; do',
  `\t( SSH_ORIGINAL_COMMAND=$psm_case; ${GATE_MAIN_CALL} ) >/dev/null 2>&1`,
  '\tprintf \'%s\\n\' "$?"',
  'done < "$1"',
  '',
].join('\n');

/** Writes the driver for `script` into `dir` and returns its path (`fromFile`: commands come from a file). */
export async function writeGateDriver(script: string, dir: string, fromFile = false): Promise<string> {
  const tail = `\n${GATE_MAIN_CALL}\n`;
  if (!script.endsWith(tail)) throw new Error('the gate does not end with its main call');
  const path = join(dir, fromFile ? 'gate-file-driver.sh' : 'gate-driver.sh');
  await writeFile(path, `${script.slice(0, -GATE_MAIN_CALL.length - 1)}${fromFile ? FILE_LOOP : LOOP}`, {
    mode: 0o644,
  });
  return path;
}

/** The exit code the gate gives for each command (NUL cannot occur: sshd refuses it in a command). */
export async function runGateCases(
  shell: (typeof SHELLS)[number],
  driver: string,
  commands: readonly string[],
): Promise<number[]> {
  const codes: number[] = [];
  let start = 0;
  while (start < commands.length) {
    let end = start;
    let size = 0;
    while (
      end < commands.length &&
      end - start < MAX_BATCH_CASES &&
      size + (commands[end]?.length ?? 0) < MAX_BATCH_CHARS
    ) {
      size += commands[end]?.length ?? 0;
      end += 1;
    }
    if (end === start) end = start + 1;
    const batch = commands.slice(start, end);
    const outcome = await runProgram(shell.file, [...shell.args, driver, ...batch], { timeoutMs: 120_000 });
    const lines = outcome.stdout
      .toString()
      .split('\n')
      .filter((l) => l !== '');
    if (outcome.exitCode !== 0 || lines.length !== batch.length)
      throw new Error(
        `${shell.name} driver failed (${outcome.exitCode}): ${outcome.stderr.toString().slice(0, 500)}`,
      );
    codes.push(...lines.map(Number));
    start = end;
  }
  return codes;
}

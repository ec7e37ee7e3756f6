import type { ExitCode } from './exit-codes.js';

/**
 * What a command throws to stop with a coded, human message and a chosen exit code.
 * main() turns it into one line on stderr (or a JSON object with --json); never a stack trace.
 */
export class CliFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

import type { ErrorCategory } from '../common/error-category.js';
import type { CodedError } from '../common/result.js';
import { exitCodeForCategory, type ExitCode } from './exit-codes.js';

/**
 * What a command throws to stop with a coded, human message. The category decides the exit code
 * (exitCodeForCategory); main() turns the failure into one line on stderr (or a JSON object with
 * --json); never a stack trace.
 */
export class CliFailure extends Error {
  readonly exitCode: ExitCode;

  constructor(
    readonly code: string,
    message: string,
    readonly category: ErrorCategory,
  ) {
    super(message);
    this.name = 'CliFailure';
    this.exitCode = exitCodeForCategory(category);
  }
}

/**
 * The failure for a library error: its code, its message with the file it names, and the
 * category its module gives the code.
 */
export function failureOf<C extends string>(
  error: CodedError<C>,
  categoryOf: (code: C) => ErrorCategory,
): CliFailure {
  const where = error.file === undefined ? '' : ` (${error.file})`;
  return new CliFailure(error.code, `${error.message}${where}`, categoryOf(error.code));
}

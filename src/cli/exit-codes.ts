import type { ErrorCategory } from '../common/error-category.js';
import { assertNever } from '../common/result.js';

/**
 * psm's exit codes, the same for every command, so scripts can branch on them.
 * Documented in the README ("Exit codes"); change both together.
 */
export const EXIT = {
  /** Done; for checks: everything was valid. */
  OK: 0,
  /** The input was read and has problems (invalid lines, lint errors, a failed verify). */
  FINDINGS: 1,
  /** Bad flags or arguments. */
  USAGE: 2,
  /** A file or object could not be read, does not exist, or is not in a format psm accepts. */
  INPUT: 3,
  /** Refused for safety: unsafe permissions, would overwrite, locked by another writer. */
  REFUSED: 4,
  /** Wrong key or passphrase. */
  AUTH: 5,
  /** Sealed data was tampered with. */
  TAMPERED: 6,
  /** An outside system failed: hypervisor, guest agent, a helper program, a timeout. */
  EXTERNAL: 7,
  /** A bug in psm. */
  INTERNAL: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code for a failure of `category`. Every module maps its own codes to categories, so
 * this one switch is the whole code -> exit code table (pinned in test/unit/exit-codes.test.ts).
 */
export function exitCodeForCategory(category: ErrorCategory): ExitCode {
  switch (category) {
    case 'usage':
      return EXIT.USAGE;
    case 'input':
    case 'unreadable':
      return EXIT.INPUT;
    case 'refused':
      return EXIT.REFUSED;
    case 'auth':
      return EXIT.AUTH;
    case 'tampered':
      return EXIT.TAMPERED;
    case 'outside':
      return EXIT.EXTERNAL;
    case 'bug':
      return EXIT.INTERNAL;
    default:
      return assertNever(category);
  }
}

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

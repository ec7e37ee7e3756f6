import type { CliIo } from './output.js';

/**
 * A reader that goes away (`psm vm clone --help | head -1`, `psm keys inspect big | head`) closes
 * psm's stdout: writes fail with EPIPE. psm then stops printing, quietly (no stack trace), still
 * finishes what it was doing (a clone or a vault write is never left half-done because nobody
 * reads the output), and exits 141, the status of a program killed by SIGPIPE, so
 * `set -o pipefail` scripts see that the output was cut (0 would claim a complete run: for
 * `keys inspect`, "every line is valid").
 */
export const EXIT_OUTPUT_CLOSED = 141;

export interface OutputWatch {
  stdoutClosed(): boolean;
  stderrClosed(): boolean;
  /** 141 once stdout or stderr was closed by its reader, else undefined. */
  exitCode(): number | undefined;
}

export function watchClosedOutput(io: CliIo): OutputWatch {
  let stdout = false;
  let stderr = false;
  // EPIPE first, then ERR_STREAM_DESTROYED for later writes; any write error means nobody reads.
  io.stdout.on('error', () => {
    stdout = true;
    // The error may arrive after main() returned (writes are flushed later): set the status here too.
    process.exitCode = EXIT_OUTPUT_CLOSED;
  });
  io.stderr.on('error', () => {
    stderr = true;
    process.exitCode = EXIT_OUTPUT_CLOSED;
  });
  return {
    stdoutClosed: () => stdout,
    stderrClosed: () => stderr,
    exitCode: () => (stdout || stderr ? EXIT_OUTPUT_CLOSED : undefined),
  };
}

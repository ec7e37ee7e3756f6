import { runProgram, RunError, type RunOutcome } from '../../common/run-program.js';
import { err, ok, type Result } from '../../common/result.js';
import { imageError, type ImageError } from './errors.js';

/**
 * Runs one host program for the image build (argv only, never a shell) and turns every way it can
 * fail into an ImageError: missing program, timeout, abort, non-zero exit.
 */
export interface ToolOptions {
  readonly timeoutMs: number;
  readonly cwd?: string;
  readonly input?: Uint8Array | string;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  readonly maxOutputBytes?: number;
}

export async function runTool(
  file: string,
  args: readonly string[],
  options: ToolOptions,
): Promise<Result<RunOutcome, ImageError>> {
  let outcome: RunOutcome;
  try {
    outcome = await runProgram(file, args, options);
  } catch (error) {
    if (!(error instanceof RunError)) throw error;
    switch (error.code) {
      case 'SPAWN_FAILED':
        return err(imageError('IMAGE_TOOL_MISSING', `${error.message} (is its Debian package installed?)`));
      case 'ABORTED':
        return err(imageError('IMAGE_ABORTED', `the build was cancelled while ${file} ran`));
      case 'TIMEOUT':
      case 'OUTPUT_TOO_LARGE':
        return err(imageError('IMAGE_TOOL_FAILED', error.message));
    }
  }
  if (outcome.exitCode !== 0) {
    const detail = outcome.stderr.toString('utf8').trim().split('\n').slice(-3).join(' | ');
    const status = outcome.exitCode === null ? `signal ${outcome.signal ?? '?'}` : `exit ${outcome.exitCode}`;
    return err(imageError('IMAGE_TOOL_FAILED', `${file} ${args[0] ?? ''} failed (${status}): ${detail}`));
  }
  return ok(outcome);
}

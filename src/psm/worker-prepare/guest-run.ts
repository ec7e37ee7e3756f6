import { err, ok, type Result } from '../../common/result.js';
import type { GuestProgramOutcome, OpOptions, Worker } from '../../guest-ops/guest-ops.js';
import { fromGuestOps, type PrepareFailure } from './errors.js';

/** What a guest program printed, cut and made printable for a message. */
export function shortText(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('utf8')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** Runs path + argv in the guest; anything but exit 0 is GUEST_COMMAND_FAILED with what it said. */
export async function runChecked(
  worker: Worker,
  path: string,
  argv: readonly string[],
  ops: OpOptions,
): Promise<Result<GuestProgramOutcome, PrepareFailure>> {
  const ran = await worker.runProgram(path, argv, ops);
  if (!ran.ok) return err(fromGuestOps(ran.error, `running ${path} in the guest`));
  if (ran.value.exitCode === 0) return ok(ran.value);
  const how = ran.value.exitCode === null ? `signal ${ran.value.signal}` : `exit ${ran.value.exitCode}`;
  return err({
    module: 'guest-ops',
    code: 'GUEST_COMMAND_FAILED',
    message: `${path} in the guest failed (${how}): ${shortText(ran.value.stderr)}`,
  });
}

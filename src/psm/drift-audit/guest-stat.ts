import { ok, type Result } from '../../common/result.js';
import type { OpOptions, Worker } from '../../guest-ops/guest-ops.js';

/** busybox and coreutils stat: `%f` the raw st_mode in hex, then uid and gid. */
const STAT = '/bin/stat';
const STAT_LINE = /^([0-9a-f]{1,8}) (\d{1,10}) (\d{1,10})\n?$/;
const S_IFMT = 0o170000;

export type GuestFileType = 'file' | 'directory' | 'symlink' | 'other';

export interface GuestStat {
  readonly type: GuestFileType;
  /** Permission bits (and setuid/setgid/sticky). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

function typeOf(raw: number): GuestFileType {
  switch (raw & S_IFMT) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}

/**
 * lstat of a guest path (`follow`: stat), or null when it does not exist. The guest's answer is
 * parsed strictly; anything else is an error string.
 */
export async function statInGuest(
  worker: Worker,
  path: string,
  options: OpOptions & { readonly follow?: boolean } = {},
): Promise<Result<GuestStat | null, string>> {
  const argv = [...(options.follow === true ? ['-L'] : []), '-c', '%f %u %g', '--', path];
  const ran = await worker.runProgram(STAT, argv, options);
  if (!ran.ok) return { ok: false, error: `${ran.error.code}: ${ran.error.message}` };
  const stdout = Buffer.from(ran.value.stdout).toString('latin1');
  if (ran.value.exitCode !== 0) {
    const stderr = Buffer.from(ran.value.stderr).toString('latin1');
    if (/No such file or directory/.test(stderr)) return ok(null);
    return { ok: false, error: `stat ${path} failed in the guest` };
  }
  const match = STAT_LINE.exec(stdout);
  if (match === null) return { ok: false, error: `unexpected stat output for ${path}` };
  const raw = Number.parseInt(match[1] ?? '', 16);
  return ok({ type: typeOf(raw), mode: raw & 0o7777, uid: Number(match[2]), gid: Number(match[3]) });
}

/** Root-owned and writable by nobody else: what sshd's StrictModes and psm's trust need. */
export function rootOnlyWritable(stat: GuestStat): boolean {
  return stat.uid === 0 && (stat.mode & 0o022) === 0;
}

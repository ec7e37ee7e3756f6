import type { FileOwner } from './guest-ops.js';

/**
 * Guest file mode and owner as people write them (`0640`, `1000:1000`). Only numeric owners: a
 * user name would be resolved by the guest, which psm does not trust to answer honestly.
 */

/** Octal permission bits, 3 or 4 digits with an optional leading 0; undefined when not that. */
export function parseFileMode(text: string): number | undefined {
  return /^0?[0-7]{3,4}$/.test(text) ? Number.parseInt(text, 8) : undefined;
}

/** `UID:GID`, both decimal; undefined when not that. */
export function parseFileOwner(text: string): FileOwner | undefined {
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(text);
  return match === null ? undefined : { uid: Number(match[1]), gid: Number(match[2]) };
}

/** The mode as four octal digits, as `ls` and the CLI print it. */
export function formatFileMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

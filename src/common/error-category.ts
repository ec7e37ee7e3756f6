import { assertNever } from './result.js';

/**
 * What kind of failure an error code is, independent of the module that raised it. Each module
 * maps every code of its union to one of these (an exhaustive switch next to the union); the CLI
 * turns a category into an exit code (src/cli/exit-codes.ts) and the daemon into an HTTP status,
 * so neither front end keeps a per-module table that could drift.
 */
export type ErrorCategory =
  /** The caller asked for something malformed: a bad flag, argument or name. */
  | 'usage'
  /** The input was read and is not something psm accepts (invalid file, too large, bad format). */
  | 'input'
  /** What the caller named does not exist or cannot be read. */
  | 'unreadable'
  /** psm refuses for safety or because of the current state: would overwrite, busy, locked, unsafe. */
  | 'refused'
  /** Wrong key or passphrase. */
  | 'auth'
  /** Sealed data failed authentication: it was altered. */
  | 'tampered'
  /** A system outside psm failed: hypervisor, guest agent, a host program, a timeout, an abort. */
  | 'outside'
  /** A broken invariant inside psm. */
  | 'bug';

export const ERROR_CATEGORIES: readonly ErrorCategory[] = [
  'usage',
  'input',
  'unreadable',
  'refused',
  'auth',
  'tampered',
  'outside',
  'bug',
];

/**
 * The HTTP status the daemon answers with. `unreadable` is 404 because the daemon only reads what
 * a request names (a worker, a policy); `tampered` is 500, not 4xx, because the request was fine and
 * the server's own sealed state is what failed; `outside` is 502 because psm is then a gateway to
 * the hypervisor or guest that failed.
 */
export function httpStatusForCategory(category: ErrorCategory): number {
  switch (category) {
    case 'usage':
      return 400;
    case 'input':
      return 422;
    case 'unreadable':
      return 404;
    case 'refused':
      return 409;
    case 'auth':
      return 403;
    case 'tampered':
      return 500;
    case 'outside':
      return 502;
    case 'bug':
      return 500;
    default:
      return assertNever(category);
  }
}

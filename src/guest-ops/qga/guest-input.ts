import { err, ok, type Result } from '../../common/result.js';

/**
 * Checks on what psm sends into a guest: paths, program arguments and environment entries.
 * They are passed as JSON strings and end up as C strings in the agent, so a NUL would silently
 * cut an argument short: refused, like anything else psm cannot pass through verbatim.
 */

export const MAX_GUEST_PATH_CHARS = 4096;
export const MAX_GUEST_ARGS = 4096;
/** Linux's ARG_MAX is 2 MiB for argv + envp together; stay well below it. */
export const MAX_GUEST_ARGV_CHARS = 1024 * 1024;
export const MAX_GUEST_ENV_ENTRIES = 256;

/** An absolute path without NUL or control characters, `.`/`..` components or a trailing slash. */
export function checkGuestPath(path: string, what: string): Result<string, string> {
  if (path.length === 0 || path.length > MAX_GUEST_PATH_CHARS)
    return err(`${what} must be 1-${MAX_GUEST_PATH_CHARS} characters`);
  if (!path.startsWith('/')) return err(`${what} must be an absolute path`);
  if (hasControlCharacter(path)) return err(`${what} contains a control character`);
  if (path === '/') return ok(path);
  if (path.endsWith('/')) return err(`${what} must not end with /`);
  const parts = path.split('/').slice(1);
  if (parts.some((part) => part === '.' || part === '..' || part === ''))
    return err(`${what} must not contain empty, . or .. components`);
  return ok(path);
}

/** Arguments may contain anything (spaces, quotes, newlines, `$(...)`) except NUL. */
export function checkArgv(argv: readonly string[]): Result<readonly string[], string> {
  if (argv.length > MAX_GUEST_ARGS) return err(`more than ${MAX_GUEST_ARGS} arguments`);
  let total = 0;
  for (const arg of argv) {
    if (typeof arg !== 'string') return err('every argument must be a string');
    if (arg.includes('\u0000')) return err('an argument contains a NUL character');
    total += arg.length + 1;
    if (total > MAX_GUEST_ARGV_CHARS)
      return err(`the arguments are longer than ${MAX_GUEST_ARGV_CHARS} characters`);
  }
  return ok(argv);
}

export function checkEnv(env: readonly string[]): Result<readonly string[], string> {
  if (env.length > MAX_GUEST_ENV_ENTRIES)
    return err(`more than ${MAX_GUEST_ENV_ENTRIES} environment entries`);
  for (const entry of env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(entry)) return err('environment entries must be NAME=value');
    if (entry.includes('\u0000')) return err('an environment entry contains a NUL character');
  }
  return ok(env);
}

/** Permission bits (including setuid/setgid/sticky) as chmod's octal argument. */
export function checkMode(mode: number): Result<string, string> {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
    return err('the mode must be between 0 and 07777');
  return ok(mode.toString(8).padStart(4, '0'));
}

export function checkOwnerId(id: number, what: string): Result<number, string> {
  if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe)
    return err(`${what} must be an integer from 0 to 4294967294`);
  return ok(id);
}

export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

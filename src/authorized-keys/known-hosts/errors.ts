import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, type CodedError } from '../../common/result.js';

/**
 * Every way a known_hosts line, a host lookup or a hashing run can be refused. One union for the
 * whole known_hosts module, so the CLI maps each code to an exit code in one switch.
 */
export type KnownHostsErrorCode =
  /** The line is longer than MAX_KNOWN_HOSTS_LINE_BYTES. */
  | 'LINE_TOO_LONG'
  /** The line is not valid UTF-8. */
  | 'INVALID_UTF8'
  /** NUL, CR or another control character (tab excepted) in the line. */
  | 'CONTROL_CHARACTER'
  /** Unknown marker, a second marker, or a marker with nothing after it (hostfile.c check_markers). */
  | 'BAD_MARKER'
  /** The line has a host field but no key ("truncated line" / "truncated before key type"). */
  | 'MISSING_KEY'
  /** `a,,b`, a trailing comma, or a lone `!` in the host list. */
  | 'EMPTY_HOST_PATTERN'
  /** A host pattern with a character psm does not accept, `!` inside it, or a malformed `[host]:port`. */
  | 'BAD_HOST_PATTERN'
  /** A host pattern longer than OpenSSH's 1023-byte sub-pattern buffer can hold. */
  | 'HOST_PATTERN_TOO_LONG'
  /** More host patterns on one line than MAX_HOST_PATTERNS. */
  | 'TOO_MANY_HOST_PATTERNS'
  /** A `[host]:port` whose port is not 1-65535 written canonically. */
  | 'BAD_PORT'
  /** A host field starting with `|` that is not `|1|<base64 20-byte salt>|<base64 20-byte HMAC>`. */
  | 'BAD_HASHED_HOST'
  /** The key field is not a key OpenSSH reads (the key parser's own code is in the message). */
  | 'BAD_KEY'
  /** A serializer input that cannot be written as one exact line (whitespace in a comment start, CR, LF...). */
  | 'UNREPRESENTABLE'
  /** The host name given to a lookup is empty, too long, or has characters no host name has. */
  | 'BAD_LOOKUP_HOST'
  /** Hashing refused: the file has invalid lines, so nothing is written (like `ssh-keygen -H`). */
  | 'FILE_HAS_INVALID_LINES';

export type KnownHostsError = CodedError<KnownHostsErrorCode>;

/**
 * Longest line psm reads, in bytes. OpenSSH reads lines of any length; the largest real line is a
 * certificate-authority line with a 16384-bit RSA key (about 2.8 KiB of base64) behind a long host
 * list, so 64 KiB leaves room for every real file and bounds the work per line.
 */
export const MAX_KNOWN_HOSTS_LINE_BYTES = 64 * 1024;

/**
 * Longest host pattern (without its `!`): match.c copies each sub-pattern into `char sub[1024]`
 * and treats a longer one as "no match" for the whole list; psm refuses such a line instead.
 */
export const MAX_HOST_PATTERN_LENGTH = 1022;

/** Most comma-separated patterns on one line; bounds the hashing fan-out (one output line each). */
export const MAX_HOST_PATTERNS = 4096;

/** Largest known_hosts file the CLI reads (checked with stat before reading). */
export const MAX_KNOWN_HOSTS_FILE_BYTES = 256 * 1024 * 1024;

/**
 * The category of each code: a lookup host comes from the caller (`usage`); everything else is a
 * line or a file psm will not accept (`input`). A caller that parses its own argument with a line
 * parser (a `[host]:port` target) reports that as usage itself.
 */
export function knownHostsErrorCategory(code: KnownHostsErrorCode): ErrorCategory {
  switch (code) {
    case 'BAD_LOOKUP_HOST':
      return 'usage';
    case 'LINE_TOO_LONG':
    case 'INVALID_UTF8':
    case 'CONTROL_CHARACTER':
    case 'BAD_MARKER':
    case 'MISSING_KEY':
    case 'EMPTY_HOST_PATTERN':
    case 'BAD_HOST_PATTERN':
    case 'HOST_PATTERN_TOO_LONG':
    case 'TOO_MANY_HOST_PATTERNS':
    case 'BAD_PORT':
    case 'BAD_HASHED_HOST':
    case 'BAD_KEY':
    case 'UNREPRESENTABLE':
    case 'FILE_HAS_INVALID_LINES':
      return 'input';
    default:
      return assertNever(code);
  }
}

/**
 * Host patterns of a known_hosts line (`host1,!host2,*.example.org,[10.0.0.?]:2222`) and how
 * OpenSSH matches a host name against them (match.c match_pattern_list / match_hostname).
 */
import { codedError, err, ok, type Result } from '../../common/result.js';
import { MAX_HOST_PATTERN_LENGTH, MAX_HOST_PATTERNS, type KnownHostsError } from './errors.js';

export interface HostPattern {
  /** A leading `!`: a match of this pattern rejects the whole line for that host. */
  readonly negated: boolean;
  /** The pattern without its `!`, as written (case kept; matching ignores ASCII case). */
  readonly pattern: string;
}

/**
 * What psm accepts inside one pattern: host-name, IPv4/IPv6 (with `%zone`) and wildcard
 * characters, plus brackets for `[host]:port`. OpenSSH takes any non-blank bytes; psm refuses the
 * rest (fail closed), so every pattern it accepts can be written back exactly.
 */
const PATTERN_BODY = /^[A-Za-z0-9._\-:%*?[\]]+$/;
const BRACKETED = /^\[([^[\]]+)\]:([0-9*?]+)$/;
const LOOKUP_HOST = /^[A-Za-z0-9._\-:%]+$/;

export const DEFAULT_SSH_PORT = 22;

/** Parses a comma-separated host list; `start` is the field's offset in the line, for columns. */
export function parseHostPatterns(field: string, start = 0): Result<HostPattern[], KnownHostsError> {
  const items = field.split(',');
  if (items.length > MAX_HOST_PATTERNS)
    return err(
      codedError(
        'TOO_MANY_HOST_PATTERNS',
        `more than ${MAX_HOST_PATTERNS} host patterns on one line`,
        start + 1,
      ),
    );
  const patterns: HostPattern[] = [];
  let offset = start;
  for (const item of items) {
    const checked = checkPattern(item, offset);
    if (!checked.ok) return checked;
    patterns.push(checked.value);
    offset += item.length + 1;
  }
  return ok(patterns);
}

function checkPattern(item: string, column: number): Result<HostPattern, KnownHostsError> {
  const negated = item.startsWith('!');
  const body = negated ? item.slice(1) : item;
  if (body.length === 0)
    return err(codedError('EMPTY_HOST_PATTERN', 'empty host pattern in the host list', column + 1));
  if (body.length > MAX_HOST_PATTERN_LENGTH)
    return err(
      codedError(
        'HOST_PATTERN_TOO_LONG',
        `host pattern longer than ${MAX_HOST_PATTERN_LENGTH} characters`,
        column + 1,
      ),
    );
  if (!PATTERN_BODY.test(body))
    return err(
      codedError(
        'BAD_HOST_PATTERN',
        'host pattern has a character other than letters, digits and . - _ : % * ? [ ]',
        column + 1,
      ),
    );
  if (body.includes('[') || body.includes(']')) {
    const bracketed = BRACKETED.exec(body);
    if (bracketed === null)
      return err(codedError('BAD_HOST_PATTERN', 'brackets must have the form [host]:port', column + 1));
    const port = bracketed[2] ?? '';
    if (!/[*?]/.test(port) && parsePort(port) === null)
      return err(
        codedError('BAD_PORT', `port "${port}" is not 1-65535 written without leading zeros`, column + 1),
      );
  }
  return ok({ negated, pattern: body });
}

/** A decimal port 1-65535 without sign or leading zeros, or null. */
export function parsePort(text: string): number | null {
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

export function serializeHostPatterns(patterns: readonly HostPattern[]): string {
  return patterns.map((p) => (p.negated ? `!${p.pattern}` : p.pattern)).join(',');
}

/** ASCII-only lowercasing, as OpenSSH's tolower() in the C locale (no Unicode case folding). */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * The name OpenSSH looks up for a host and port (misc.c put_host_port): the host itself for port
 * 22, `[host]:port` otherwise; lowercased, as ssh lowercases the host it connects to.
 */
export function lookupName(host: string, port: number = DEFAULT_SSH_PORT): Result<string, KnownHostsError> {
  if (host.length === 0 || host.length > MAX_HOST_PATTERN_LENGTH - 8 || !LOOKUP_HOST.test(host))
    return err(
      codedError(
        'BAD_LOOKUP_HOST',
        'host must be 1 or more letters, digits and . - _ : % (no wildcards, brackets or blanks)',
      ),
    );
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    return err(codedError('BAD_PORT', `port ${port} is not 1-65535`));
  const name = asciiLower(host);
  return ok(port === DEFAULT_SSH_PORT ? name : `[${name}]:${port}`);
}

export type PatternListMatch = 'positive' | 'negative' | 'none';

/**
 * match_pattern_list with dolower: a negated pattern that matches wins over everything, else any
 * positive match, else none. `name` must already be lowercased (lookupName does that).
 */
export function matchHostPatterns(name: string, patterns: readonly HostPattern[]): PatternListMatch {
  let positive = false;
  for (const p of patterns) {
    if (!globMatch(name, asciiLower(p.pattern))) continue;
    if (p.negated) return 'negative';
    positive = true;
  }
  return positive ? 'positive' : 'none';
}

/**
 * `*` (any run, also empty) and `?` (exactly one character), everything else literal: the same
 * language as match.c match_pattern, but with the linear-backtrack algorithm instead of recursion,
 * so a pattern like `*a*a*a*a*b` cannot make a lookup exponential.
 */
export function globMatch(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p;
      starT = t;
      p += 1;
    } else if (pc !== undefined && (pc === '?' || pc === text[t])) {
      p += 1;
      t += 1;
    } else if (starP >= 0) {
      p = starP + 1;
      starT += 1;
      t = starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p += 1;
  return p === pattern.length;
}

/**
 * Reads a lookup target as a user types it: `[host]:port`, `host:port` (one colon only), or a
 * bare host (an IPv6 address without brackets has several colons and means port 22).
 */
export function parseLookupTarget(text: string): Result<{ host: string; port: number }, KnownHostsError> {
  const bracketed = /^\[([^[\]]+)\]:([^:]*)$/.exec(text);
  const colons = text.split(':').length - 1;
  let host = text;
  let portText: string | null = null;
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? '';
  } else if (colons === 1) {
    [host = '', portText = ''] = text.split(':');
  }
  const port = portText === null ? DEFAULT_SSH_PORT : parsePort(portText);
  if (port === null) return err(codedError('BAD_PORT', `port "${portText}" is not 1-65535`));
  const name = lookupName(host, port);
  return name.ok ? ok({ host: asciiLower(host), port }) : name;
}

import { isIPv4, isIPv6 } from 'node:net';
import { err, ok, type Result } from '../../common/result.js';
import { isForbiddenProgram } from './forbidden-programs.js';
import type { AllowedObject, Expiry, HostPort } from './types.js';
import {
  MAX_DESCRIPTION_LENGTH,
  MAX_EXPIRY_SECONDS,
  MAX_FROM_PATTERN_LENGTH,
  MAX_HOST_LENGTH,
  MAX_NAME_LENGTH,
  MAX_OWNER_LENGTH,
  MAX_PATH_LENGTH,
} from './limits.js';

/**
 * Validators for single policy values. Each returns the value in canonical form or a reason; the
 * schema walker adds the code and the position. The character sets are deliberately small: every
 * value ends up inside an authorized_keys option, an `sh -c` command line (sshd runs the forced
 * command through the user's shell) or the gate script, so anything outside them is refused rather
 * than quoted.
 */
export type ValueResult<T> = Result<T, string>;

/** Characters the gate accepts in popcobjrun's object and arguments (also used for object paths). */
export const GATE_SAFE_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._,:=@%+/-';
const GATE_SAFE = /^[A-Za-z0-9._,:=@%+/-]+$/;
/** Paths of programs: also safe as one word of `sh -c` (no '=' so it is never an assignment). */
const PROGRAM_PATH = /^[A-Za-z0-9._+/-]+$/;
const NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const PORT = /^[1-9][0-9]{0,4}$/;
const FROM_PATTERN = /^[A-Za-z0-9.*?:_-]+$/;
const DURATION = /^([1-9][0-9]{0,6})([smhdw])$/;
/**
 * Characters that make reviewed text read differently from what it holds: controls, format
 * characters (bidi marks and overrides U+200E/F, U+061C, U+202A-E, U+2066-9, joiners U+200D,
 * soft hyphen U+00AD, BOM, tags), line/paragraph separators, spaces other than U+0020, private
 * use, unassigned code points, lone surrogates, and letters that render as nothing (Hangul
 * fillers, variation selectors, combining grapheme joiner, braille blank).
 */
// Tested one code point at a time, so combining marks in the class cannot pair up with others.
/* eslint-disable no-misleading-character-class */
export const INVISIBLE_OR_CONTROL =
  /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\p{Zs}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u2800\u3164\uFE00-\uFE0F\uFFA0\u{E0100}-\u{E01EF}]/u;
/* eslint-enable no-misleading-character-class */

function hasUnsafeText(value: string, allowNewline: boolean): boolean {
  for (const ch of value) {
    if (ch === ' ' || (ch === '\n' && allowNewline)) continue;
    if (INVISIBLE_OR_CONTROL.test(ch)) return true;
  }
  return false;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

export function policyName(value: string): ValueResult<string> {
  if (value.length > MAX_NAME_LENGTH) return err(`is longer than ${MAX_NAME_LENGTH} characters`);
  if (!NAME.test(value))
    return err('must be lower-case letters, digits and inner hyphens (like "main-node")');
  return ok(value);
}

export function ownerText(value: string): ValueResult<string> {
  if (value.trim().length === 0) return err('must not be empty');
  if (value.length > MAX_OWNER_LENGTH) return err(`is longer than ${MAX_OWNER_LENGTH} characters`);
  if (hasUnsafeText(value, false)) return err('must be one line of printable text');
  return ok(value);
}

export function descriptionText(value: string): ValueResult<string> {
  if (value.trim().length === 0) return err('must not be empty');
  if (value.length > MAX_DESCRIPTION_LENGTH)
    return err(`is longer than ${MAX_DESCRIPTION_LENGTH} characters`);
  if (hasUnsafeText(value, true)) return err('contains control or bidirectional-override characters');
  return ok(value);
}

/** The gate's path: a single shell word; relative paths are accepted here and warned about by lint. */
export function gatePath(value: string): ValueResult<string> {
  if (value.length === 0 || value.length > MAX_PATH_LENGTH) return err('must be 1-1024 characters');
  if (!PROGRAM_PATH.test(value)) return err('may only contain letters, digits and . _ + / -');
  if (value.startsWith('-')) return err('must not start with "-"');
  if (value.endsWith('/')) return err('must name a file, not a directory');
  return ok(value);
}

export function popcobjrunPath(value: string): ValueResult<string> {
  const base = gatePath(value);
  if (!base.ok) return base;
  if (!value.startsWith('/')) return err('must be an absolute path (the gate runs it with a fixed PATH)');
  if (hasDotSegment(value)) return err('must not contain "." or ".." segments or "//"');
  return ok(value);
}

export function allowedObject(value: string): ValueResult<AllowedObject> {
  if (value.length === 0 || value.length > MAX_PATH_LENGTH) return err('must be 1-1024 characters');
  if (!GATE_SAFE.test(value)) return err('may only contain letters, digits and . _ , : = @ % + / -');
  if (!value.startsWith('/')) return err('must be an absolute path');
  if (hasDotSegment(value)) return err('must not contain "." or ".." segments, hidden names or "//"');
  if (value === '/') return err('must not be "/" (that would allow every program on the worker)');
  const kind = value.endsWith('/') ? 'directory' : 'file';
  // popcobjrun runs the object it is given: an object that is a shell or launcher, or a directory
  // holding the system's programs, would let the key run any command through popcobjrun.
  if (kind === 'file' && isForbiddenProgram(value))
    return err('names a shell, interpreter or program launcher: popcobjrun would run any command');
  const system = SYSTEM_PROGRAM_DIRECTORIES.find((dir) => dir.startsWith(value));
  if (kind === 'directory' && system !== undefined)
    return err(`must not hold the system's programs (${system} is below it)`);
  return ok({ path: value, kind });
}

/** Directories that hold the worker's own programs (shells among them), as `objects` would name them. */
const SYSTEM_PROGRAM_DIRECTORIES = [
  '/bin/',
  '/sbin/',
  '/lib/',
  '/usr/bin/',
  '/usr/sbin/',
  '/usr/lib/',
  '/usr/libexec/',
  '/usr/local/bin/',
  '/usr/local/sbin/',
  '/usr/local/libexec/',
  '/etc/',
];

/** A path segment starting with '.', or an empty segment: refused in every worker path. */
function hasDotSegment(path: string): boolean {
  return path.includes('/.') || path.includes('//');
}

export function permitOpenEntry(value: string): ValueResult<HostPort> {
  return hostPort(value);
}

export function permitListenEntry(value: string): ValueResult<HostPort> {
  return hostPort(value);
}

function hostPort(value: string): ValueResult<HostPort> {
  if (value.length > MAX_HOST_LENGTH + 8) return err('is too long');
  let host: string;
  let port: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0 || value[close + 1] !== ':') return err('must be "[IPv6]:port"');
    host = value.slice(0, close + 1);
    port = value.slice(close + 2);
    if (!isIPv6(host.slice(1, -1))) return err('has an invalid IPv6 address in brackets');
  } else {
    const colon = value.lastIndexOf(':');
    if (colon < 0) return err('must be "host:port"');
    host = value.slice(0, colon);
    port = value.slice(colon + 1);
    if (host.includes(':')) return err('must write an IPv6 address in brackets, like "[::1]:2711"');
    if (host !== '*' && !isIPv4(host) && !HOST_NAME.test(host))
      return err('must have a host name, an IPv4 address, "[IPv6]" or "*"');
  }
  if (port !== '*' && !(PORT.test(port) && Number(port) <= 65_535))
    return err('must have a port 1-65535 (no leading zeros) or "*"');
  return ok({ host, port });
}

export function isWildcard(entry: HostPort): boolean {
  return entry.host === '*' || entry.port === '*';
}

/** One `from=` pattern: an address, a CIDR block with no host bits set, or a host/address pattern. */
export function fromPattern(value: string): ValueResult<string> {
  if (value.length === 0 || value.length > MAX_FROM_PATTERN_LENGTH) return err('must be 1-255 characters');
  const body = value.startsWith('!') ? value.slice(1) : value;
  const slash = body.indexOf('/');
  if (slash >= 0) {
    const cidr = canonicalCidr(body.slice(0, slash), body.slice(slash + 1));
    return cidr.ok ? ok(value) : cidr;
  }
  if (!FROM_PATTERN.test(body))
    return err('may only contain letters, digits and . * ? : _ - (and a leading !)');
  return ok(value);
}

/** sshd refuses the whole key when a CIDR has host bits set, so psm refuses it first. */
function canonicalCidr(address: string, bitsText: string): ValueResult<string> {
  const v4 = isIPv4(address);
  if (!v4 && !isIPv6(address)) return err('has an invalid address before "/"');
  const maxBits = v4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bitsText) || Number(bitsText) > maxBits)
    return err(`must have a prefix length 0-${maxBits}`);
  const bits = Number(bitsText);
  const bytes = addressBytes(address, v4);
  for (let i = 0; i < bytes.length * 8; i += 1) {
    const set = ((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
    if (i >= bits && set === 1) return err('has host bits set after the prefix (sshd would refuse the key)');
  }
  return ok(`${address}/${bitsText}`);
}

function addressBytes(address: string, v4: boolean): number[] {
  if (v4) return address.split('.').map(Number);
  const [head = '', tail = ''] = address.includes('::') ? address.split('::') : [address, ''];
  const part = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const headGroups = part(head);
  const tailGroups = part(tail);
  const last = tailGroups.length > 0 ? tailGroups : headGroups;
  const embedded = last.length > 0 && isIPv4(last[last.length - 1] ?? '') ? last.pop() : undefined;
  const v4Groups = embedded === undefined ? [] : embedded.split('.').map(Number);
  const groupCount = 8 - (v4Groups.length > 0 ? 2 : 0);
  const zeros = Array<string>(groupCount - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...zeros, ...tailGroups].map((g) => parseInt(g, 16));
  return [...groups.flatMap((g) => [g >> 8, g & 0xff]), ...v4Groups];
}

export function expiryDuration(value: string): ValueResult<Expiry> {
  const match = DURATION.exec(value);
  if (!match) return err('must be a duration like "30d" (a number and one of s, m, h, d, w)');
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? 0);
  if (seconds > MAX_EXPIRY_SECONDS) return err('is longer than 3650 days');
  return ok({ text: value, seconds });
}

/** `from` patterns that name hosts only match when the worker's sshd resolves names (UseDNS yes). */
export function fromPatternNamesHost(pattern: string): boolean {
  const body = pattern.startsWith('!') ? pattern.slice(1) : pattern;
  return /[A-Za-z_]/.test(body) && !body.includes(':') && !body.includes('/');
}

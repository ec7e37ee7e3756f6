import { readFileSync } from 'node:fs';

/**
 * The value checks sshd applies inside sshauthopt_parse: a2port/strtonum, a2tun, hpdelim2,
 * parse_absolute_time and valid_env_name (openssh misc.c), reproduced for exact verdicts.
 */

/** sshd's NI_MAXHOST: a permitopen/permitlisten host must be shorter. */
export const MAX_PERMIT_HOST_LENGTH = 1025;
/** sshd's SSH_TUNID_MAX. */
export const TUNNEL_ID_MAX = 0x7fffffff - 2;
const SERVICES_FILE = '/etc/services';

function isCSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** OpenBSD strtonum (strtoll base 10: leading C whitespace, optional sign, digits, nothing after). */
export function strtonum(text: string, min: number, max: number): number | null {
  let i = 0;
  while (i < text.length && isCSpace(text.charCodeAt(i))) i++;
  let negative = false;
  if (text[i] === '+' || text[i] === '-') negative = text[i++] === '-';
  const digitsStart = i;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  if (i === digitsStart || i !== text.length) return null;
  // Long digit strings overflow strtoll to ERANGE, which strtonum reports as out of range.
  const magnitude = Number(text.slice(digitsStart, i));
  const value = negative && magnitude !== 0 ? -magnitude : magnitude;
  return value < min || value > max ? null : value;
}

let services: Map<string, number> | undefined;

/** getservbyname(name, "tcp") over the local /etc/services; no file means no names (fail closed). */
export function tcpServicePort(name: string): number | null {
  if (services === undefined) {
    services = new Map();
    let text = '';
    try {
      text = readFileSync(SERVICES_FILE, 'latin1');
    } catch {
      text = '';
    }
    for (const raw of text.split('\n')) {
      const line = raw.split('#')[0]!.trim();
      const fields = line.split(/[ \t]+/);
      const match = /^(\d+)\/tcp$/.exec(fields[1] ?? '');
      if (fields.length < 2 || match === null) continue;
      for (const alias of [fields[0]!, ...fields.slice(2)])
        if (!services.has(alias)) services.set(alias, Number(match[1]));
    }
  }
  return services.get(name) ?? null;
}

/** sshd's a2port: a number 0..65535 or a TCP service name; -1 (here null) when neither. */
export function a2port(text: string): number | null {
  const numeric = strtonum(text, 0, 65535);
  if (numeric !== null) return numeric;
  return tcpServicePort(text);
}

/** a2tun without a remote part: "any" (any case) or 0..SSH_TUNID_MAX. */
export function parseTunnel(text: string): number | 'any' | null {
  if (text.length === 3 && text.toLowerCase() === 'any') return 'any';
  return strtonum(text, 0, TUNNEL_ID_MAX);
}

/** handle_permit's host/port check (hpdelim2, NI_MAXHOST, '*' or a2port > 0). */
export function checkPermit(spec: string): 'ok' | 'host' | 'port' {
  let hostEnd: number;
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    if (close === -1) return 'host';
    hostEnd = close + 1;
    if (hostEnd < spec.length && spec[hostEnd] !== ':' && spec[hostEnd] !== '/') return 'host';
  } else {
    const colon = spec.indexOf(':');
    const slash = spec.indexOf('/');
    hostEnd =
      colon === -1 ? (slash === -1 ? spec.length : slash) : slash === -1 ? colon : Math.min(colon, slash);
  }
  if (hostEnd >= MAX_PERMIT_HOST_LENGTH) return 'host';
  if (hostEnd >= spec.length) return 'port';
  const port = spec.slice(hostEnd + 1);
  if (port === '*') return 'ok';
  const number = a2port(port);
  return number === null || number <= 0 ? 'port' : 'ok';
}

/** valid_env_name: one or more ASCII letters, digits or underscores. */
export function isValidEnvName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!(isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95)) return false;
  }
  return true;
}

/** One strptime numeric field as glibc reads it: optional C whitespace, then digits filling the field. */
function timeField(text: string, min: number, max: number): number | null {
  let i = 0;
  while (i < text.length && isCSpace(text.charCodeAt(i))) i++;
  if (i === text.length) return null;
  for (let j = i; j < text.length; j++) if (!isDigit(text.charCodeAt(j))) return null;
  const value = Number(text.slice(i));
  return value < min || value > max ? null : value;
}

/** The fields of an expiry-time value, or null when parse_absolute_time would refuse its form. */
interface ExpiryFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly utc: boolean;
}

function expiryFields(text: string): ExpiryFields | null {
  let length = text.length;
  let utc = false;
  if (length > 1 && text.slice(-1).toLowerCase() === 'z') {
    utc = true;
    length -= 1;
  } else if (length > 3 && text.slice(-3).toLowerCase() === 'utc') {
    utc = true;
    length -= 3;
  }
  if (length !== 8 && length !== 12 && length !== 14) return null;
  const year = timeField(text.slice(0, 4), 0, 9999);
  const month = timeField(text.slice(4, 6), 1, 12);
  const day = timeField(text.slice(6, 8), 1, 31);
  const hour = length >= 12 ? timeField(text.slice(8, 10), 0, 23) : 0;
  const minute = length >= 12 ? timeField(text.slice(10, 12), 0, 59) : 0;
  const second = length === 14 ? timeField(text.slice(12, 14), 0, 61) : 0;
  if (year === null || month === null || day === null || hour === null || minute === null || second === null)
    return null;
  return { year, month, day, hour, minute, second, utc };
}

/**
 * Seconds since the epoch like mktime/timegm (out-of-range days roll over), or null for the epoch
 * itself and before (sshd's "valid_before == 0") and for dates Date cannot hold.
 */
function epochSeconds(f: ExpiryFields): number | null {
  const date = new Date(0);
  if (f.utc) {
    date.setUTCFullYear(f.year, f.month - 1, f.day);
    date.setUTCHours(f.hour, f.minute, f.second, 0);
  } else {
    date.setFullYear(f.year, f.month - 1, f.day);
    date.setHours(f.hour, f.minute, f.second, 0);
  }
  const seconds = Math.floor(date.getTime() / 1000);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}

/**
 * parse_absolute_time: YYYYMMDD[HHMM[SS]] with an optional Z or UTC suffix (any case); local time
 * otherwise. Out-of-range days roll over like mktime; times before 1970 and exactly the epoch
 * (sshd's "valid_before == 0") are refused. Returns seconds since the epoch.
 */
export function parseExpiryTime(text: string): number | null {
  const fields = expiryFields(text);
  return fields === null ? null : epochSeconds(fields);
}

/**
 * parseExpiryTime(text) !== null, without the calendar arithmetic when the year alone settles it:
 * any valid date in 1971 or later is more than a day past the epoch in every time zone (offsets
 * stay within about 14 hours), and the key parser only needs the verdict.
 */
export function isValidExpiryTime(text: string): boolean {
  const fields = expiryFields(text);
  if (fields === null) return false;
  return fields.year >= 1971 || epochSeconds(fields) !== null;
}

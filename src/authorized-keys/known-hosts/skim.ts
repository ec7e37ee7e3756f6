/**
 * A quick reading of a known_hosts line's bytes up to its key: the marker, the host field (a
 * hashed host decoded, or the ranges of its patterns) and where the key starts. The whole-file
 * commands (lookUpHostInFile, hashKnownHostsData) read 100k-line files with it in a few
 * milliseconds, with no string or object per line.
 *
 * It is a shortcut for readKnownHostsHead, never a second set of rules: it answers SKIM_ENTRY or
 * SKIM_COMMENT only for lines that readKnownHostsHead reads the same way (test/property/
 * known-hosts-skim.test.ts compares them), and SKIM_UNSURE for everything else (a tab after a
 * marker, a non-ASCII byte, any error, a line too long), which the caller then decodes and reads
 * with readKnownHostsHead itself. Its callers check first that the file is valid UTF-8.
 */
import { MAX_HOST_PATTERN_LENGTH, MAX_HOST_PATTERNS, MAX_KNOWN_HOSTS_LINE_BYTES } from './errors.js';
import { BASE64_20_CHARS, decodeBase64Of20 } from '../../common/base64.js';
import { HASH_SALT_BYTES } from './hash.js';
import type { KnownHostsMarker } from './line.js';

/** Blank or `#` comment line. */
export const SKIM_COMMENT = 0;
/** An entry whose marker and host field are valid; its fields are in the LineSkim. */
export const SKIM_ENTRY = 1;
/** Not read here: the caller reads the line with readKnownHostsHead. */
export const SKIM_UNSURE = 2;
export type SkimResult = typeof SKIM_COMMENT | typeof SKIM_ENTRY | typeof SKIM_UNSURE;

const TAB = 0x09;
const SPACE = 0x20;
const BANG = 0x21;
const HASH_SIGN = 0x23;
const COMMA = 0x2c;
const COLON = 0x3a;
const AT = 0x40;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BAR = 0x7c;
const STAR = 0x2a;
const QUESTION = 0x3f;
/** `|1|` + 28 + `|` + 28: the only length a valid hashed host field has. */
const HASHED_FIELD_BYTES = 3 + BASE64_20_CHARS + 1 + BASE64_20_CHARS;

/** PATTERN_BODY of pattern.ts without the brackets: letters, digits and . - _ : % * ? */
const PATTERN_CHAR = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:%*?')
  PATTERN_CHAR[c.charCodeAt(0)] = 1;

function isBlank(c: number | undefined): boolean {
  return c === SPACE || c === TAB;
}

/** The fields of the last line read; reused from line to line. */
export class LineSkim {
  marker: KnownHostsMarker | null = null;
  hostsStart = 0;
  hostsEnd = 0;
  keyStart = 0;
  /** The host field is `|1|salt|hash`: then salt and mac hold its two 20-byte parts. */
  hashed = false;
  readonly salt = new Uint8Array(HASH_SALT_BYTES);
  readonly mac = new Uint8Array(HASH_SALT_BYTES);
  /** Otherwise: patternCount patterns, the i-th (without its `!`) at [starts[i], ends[i]). */
  patternCount = 0;
  readonly starts = new Int32Array(MAX_HOST_PATTERNS);
  readonly ends = new Int32Array(MAX_HOST_PATTERNS);
  readonly negated = new Uint8Array(MAX_HOST_PATTERNS);
  /** Some pattern is negated or has `*` or `?` (ssh-keygen -H keeps such a line unhashed). */
  wild = false;

  /** Reads data[start..end) (one line without its `\n`). */
  read(data: Uint8Array, start: number, end: number): SkimResult {
    if (end - start > MAX_KNOWN_HOSTS_LINE_BYTES) return SKIM_UNSURE;
    let p = start;
    while (p < end && isBlank(data[p])) p++;
    if (p === end || data[p] === HASH_SIGN) return SKIM_COMMENT;
    this.marker = null;
    if (data[p] === AT) {
      p = this.#marker(data, p, end);
      if (p < 0) return SKIM_UNSURE;
    }
    const hostsStart = p;
    while (p < end && !isBlank(data[p])) p++;
    if (p === end) return SKIM_UNSURE;
    const hostsEnd = p;
    while (p < end && isBlank(data[p])) p++;
    if (p === end || data[p] === HASH_SIGN) return SKIM_UNSURE;
    this.hostsStart = hostsStart;
    this.hostsEnd = hostsEnd;
    this.keyStart = p;
    const valid =
      data[hostsStart] === BAR
        ? this.#hashed(data, hostsStart, hostsEnd)
        : this.#patterns(data, hostsStart, hostsEnd);
    return valid ? SKIM_ENTRY : SKIM_UNSURE;
  }

  /**
   * `@revoked ` or `@cert-authority ` ended by a space (check_markers ends a marker at a tab only
   * when the line has no space: left to the reader), and no second marker. The next index, or -1.
   */
  #marker(data: Uint8Array, at: number, end: number): number {
    let p = at;
    while (p < end && !isBlank(data[p])) p++;
    if (data[p] !== SPACE) return -1;
    const length = p - at;
    if (length === 8 && wordIs(data, at, '@revoked')) this.marker = 'revoked';
    else if (length === 15 && wordIs(data, at, '@cert-authority')) this.marker = 'cert-authority';
    else return -1;
    while (p < end && isBlank(data[p])) p++;
    return data[p] === AT ? -1 : p;
  }

  /** parseHashedHost's rules: `|1|`, canonical base64 of 20 bytes, `|`, the same again. */
  #hashed(data: Uint8Array, start: number, end: number): boolean {
    this.hashed = true;
    return (
      end - start === HASHED_FIELD_BYTES &&
      data[start + 1] === 0x31 &&
      data[start + 2] === BAR &&
      data[start + 3 + BASE64_20_CHARS] === BAR &&
      decodeBase64Of20(data, start + 3, this.salt) &&
      decodeBase64Of20(data, start + 4 + BASE64_20_CHARS, this.mac)
    );
  }

  /** parseHostPatterns' rules for the patterns the table above allows, and `[host]:port`. */
  #patterns(data: Uint8Array, start: number, end: number): boolean {
    this.hashed = false;
    this.wild = false;
    let count = 0;
    for (let p = start; p <= end; count++) {
      if (count === MAX_HOST_PATTERNS) return false;
      let q = p;
      while (q < end && data[q] !== COMMA) q++;
      const negated = data[p] === BANG;
      const body = negated ? p + 1 : p;
      const length = q - body;
      if (length === 0 || length > MAX_HOST_PATTERN_LENGTH) return false;
      const wild = data[body] === OPEN ? bracketed(data, body, q) : plainPattern(data, body, q);
      if (wild < 0) return false;
      if (negated || wild === 1) this.wild = true;
      this.starts[count] = body;
      this.ends[count] = q;
      this.negated[count] = negated ? 1 : 0;
      p = q + 1;
    }
    this.patternCount = count;
    return true;
  }
}

function wordIs(data: Uint8Array, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (data[at + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** 1 if the pattern has a wildcard, 0 if not, -1 if a character is not allowed (or a bracket). */
function plainPattern(data: Uint8Array, start: number, end: number): number {
  let wild = 0;
  for (let i = start; i < end; i++) {
    const c = data[i] as number;
    if (PATTERN_CHAR[c] !== 1) return -1;
    if (c === STAR || c === QUESTION) wild = 1;
  }
  return wild;
}

/**
 * `[host]:port` as pattern.ts's BRACKETED reads it: a host of allowed characters, `]:`, and a
 * port of digits and wildcards that, without wildcards, is 1-65535 with no leading zero.
 */
function bracketed(data: Uint8Array, start: number, end: number): number {
  let close = start + 1;
  while (close < end && data[close] !== CLOSE) close++;
  if (close === start + 1 || close + 2 >= end || data[close + 1] !== COLON) return -1;
  const host = plainPattern(data, start + 1, close);
  if (host < 0) return -1;
  let wildPort = false;
  let port = 0;
  for (let i = close + 2; i < end; i++) {
    const c = data[i] as number;
    if (c === STAR || c === QUESTION) wildPort = true;
    else if (c >= 0x30 && c <= 0x39) port = port * 10 + (c - 0x30);
    else return -1;
  }
  const digits = end - (close + 2);
  if (!wildPort && (data[close + 2] === 0x30 || digits > 5 || port > 65535)) return -1;
  return host === 1 || wildPort ? 1 : 0;
}

/**
 * pattern.ts matchHostPatterns over the skimmed patterns: a negated match wins, else any match.
 * `name` is the lookup name's bytes (already lowercased); patterns are compared ASCII-lowercased.
 */
export function skimmedPatternsMatch(skim: LineSkim, data: Uint8Array, name: Uint8Array): boolean {
  let positive = false;
  for (let i = 0; i < skim.patternCount; i++) {
    if (!globMatchBytes(name, data, skim.starts[i] as number, skim.ends[i] as number)) continue;
    if (skim.negated[i] === 1) return false;
    positive = true;
  }
  return positive;
}

/** pattern.ts globMatch (the same linear backtracking) on bytes, the pattern lowercased. */
function globMatchBytes(text: Uint8Array, data: Uint8Array, start: number, end: number): boolean {
  let t = 0;
  let p = start;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = p < end ? lower(data[p] as number) : -1;
    if (pc === STAR) {
      starP = p;
      starT = t;
      p += 1;
    } else if (pc !== -1 && (pc === QUESTION || pc === text[t])) {
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
  while (p < end && data[p] === STAR) p += 1;
  return p === end;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

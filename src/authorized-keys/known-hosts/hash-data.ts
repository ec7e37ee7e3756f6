/**
 * Hashing a whole file's bytes like `ssh-keygen -H` (ssh-keygen.c known_hosts_hash over
 * hostkeys_foreach without HKF_WANT_PARSE_KEY): every line's marker and host field are read and
 * checked, and of the rest only what ssh-keygen checks, a known key type followed by key data;
 * the key and comment are copied byte for byte, as they are not changed, and not decoded. A file
 * with any line that fails those checks is refused whole, as ssh-keygen refuses it.
 */
import { isUtf8 } from 'node:buffer';
import { err, ok, type Result } from '../../common/result.js';
import { textKeyType } from '../keys/key-types.js';
import { encodeBase64Of20 } from '../../common/base64.js';
import type { KnownHostsError } from './errors.js';
import { InvalidLines, lineText } from './file-line-text.js';
import { HASH_SALT_BYTES, RandomSaltDraw, type SaltDraw, type SaltSource } from './hash.js';
import type { HashedKnownHostsBytes } from './hash-file.js';
import { HmacSha1, HMAC_SHA1_BYTES } from './hmac-sha1.js';
import { parseKnownHostsLine, readKnownHostsHead } from './line.js';
import { asciiLower as lowerPattern } from './pattern.js';
import { LineSkim, SKIM_COMMENT, SKIM_ENTRY } from './skim.js';
import { ByteSink } from './byte-sink.js';

const NEWLINE = 0x0a;
const HASH_SIGN = 0x23;
/** `|1|` + base64 salt + `|` + base64 HMAC + ` `, before each hashed name's key. */
const HASHED_PREFIX_BYTES = 3 + 28 + 1 + 28 + 1;

/**
 * hashKnownHostsBytes for a file's bytes, reading keys only as far as ssh-keygen -H does (see
 * above). Salts are random, or come from `saltSource` (tests), one per hashed name in file order.
 */
export function hashKnownHostsData(
  data: Uint8Array,
  saltSource?: SaltSource,
): Result<HashedKnownHostsBytes, KnownHostsError> {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  const hasher = new Hasher(
    bytes,
    saltSource === undefined ? new RandomSaltDraw() : new GivenSalts(saltSource),
  );
  const skim = new LineSkim();
  const skimmable = isUtf8(bytes);
  const name = new Uint8Array(1024);
  let line = 0;
  for (let start = 0; start < bytes.length;) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) end = bytes.length;
    line += 1;
    const kind = skimmable ? skim.read(bytes, start, end) : -1;
    if (kind === SKIM_COMMENT) hasher.keep(start, end);
    else if (kind !== SKIM_ENTRY || !keyTypeThenData(bytes, skim.keyStart, end))
      hasher.exact(start, end, line);
    else if (skim.hashed) hasher.keepHashed(start, end);
    else if (skim.marker !== null || skim.wild) hasher.keepUnhashed(start, end);
    else
      for (let i = 0; i < skim.patternCount; i++) {
        const from = skim.starts[i] as number;
        const length = (skim.ends[i] as number) - from;
        for (let j = 0; j < length; j++) name[j] = asciiLower(bytes[from + j] as number);
        hasher.hashName(name, length, bytes, skim.keyStart, end);
      }
    start = end + 1;
  }
  return hasher.result();
}

/** The output and counts of one run; lines are written as they come, until an invalid one. */
class Hasher {
  readonly #out: ByteSink;
  readonly #invalid = new InvalidLines();
  readonly #salts: SaltDraw;
  readonly #mac = new Uint8Array(HMAC_SHA1_BYTES);
  readonly #hmac = new HmacSha1(new Uint8Array(0));
  hashedNames = 0;
  keptUnhashed = 0;
  alreadyHashed = 0;

  constructor(
    readonly bytes: Buffer,
    salts: SaltDraw,
  ) {
    this.#salts = salts;
    // Hashing a plain file makes it about a third longer: room for that from the start.
    this.#out = new ByteSink(bytes.length + (bytes.length >> 1) + 1024);
  }

  keep(start: number, end: number): void {
    if (this.#invalid.count === 0) this.#out.line(this.bytes, start, end);
  }

  keepHashed(start: number, end: number): void {
    this.alreadyHashed += 1;
    this.keep(start, end);
  }

  keepUnhashed(start: number, end: number): void {
    this.keptUnhashed += 1;
    this.keep(start, end);
  }

  /**
   * `|1|salt|HMAC-SHA1(salt, name) rawkey` for name[0..nameLength) (already lowercased) and the
   * raw key raw[rawStart..rawEnd), copied verbatim.
   */
  hashName(name: Uint8Array, nameLength: number, raw: Buffer, rawStart: number, rawEnd: number): void {
    this.hashedNames += 1;
    if (this.#invalid.count > 0) return;
    const salts = this.#salts;
    const saltAt = salts.next();
    const hmac = this.#hmac;
    hmac.computeOnce(name, nameLength, salts.bytes, saltAt);
    hmac.writeMac(this.#mac);
    const out = this.#out.reserve(HASHED_PREFIX_BYTES + (rawEnd - rawStart) + 1);
    let at = this.#out.length;
    out[at++] = 0x7c;
    out[at++] = 0x31;
    out[at++] = 0x7c;
    at = encodeBase64Of20(salts.bytes, saltAt, out, at);
    out[at++] = 0x7c;
    at = encodeBase64Of20(this.#mac, 0, out, at);
    out[at++] = 0x20;
    at += raw.copy(out, at, rawStart, rawEnd);
    out[at++] = NEWLINE;
    this.#out.length = at;
  }

  /** A line the skim left to the exact reader: readKnownHostsHead and the same key-type check. */
  exact(start: number, end: number, line: number): void {
    const text = lineText(this.bytes.subarray(start, end), line);
    if (!text.ok) return this.#invalid.add(line, text.error);
    const head = readKnownHostsHead(text.value);
    if (head.ok && head.value.kind !== 'head') return this.keep(start, end);
    const rawKey =
      head.ok && head.value.kind === 'head' ? Buffer.from(text.value.slice(head.value.keyStart)) : null;
    if (
      !head.ok ||
      head.value.kind !== 'head' ||
      rawKey === null ||
      !keyTypeThenData(rawKey, 0, rawKey.length)
    ) {
      // parseKnownHostsLine fails on such a line too, with the error the whole file reader gives.
      const parsed = parseKnownHostsLine(text.value);
      return this.#invalid.add(line, parsed.ok ? missingKeyData() : parsed.error);
    }
    const { marker, hosts } = head.value;
    if (hosts.kind === 'hashed') return this.keepHashed(start, end);
    const hashable = marker === null && hosts.patterns.every((p) => !p.negated && !/[*?]/.test(p.pattern));
    if (!hashable) return this.keepUnhashed(start, end);
    for (const p of hosts.patterns) {
      const name = Buffer.from(lowerPattern(p.pattern));
      this.hashName(name, name.length, rawKey, 0, rawKey.length);
    }
  }

  result(): Result<HashedKnownHostsBytes, KnownHostsError> {
    const first = this.#invalid.first;
    if (first !== null) {
      const e = first.error;
      return err({
        code: 'FILE_HAS_INVALID_LINES',
        message: `${this.#invalid.count} invalid line(s), nothing written; first: line ${first.line}: ${e.code}: ${e.message}`,
        line: first.line,
        ...(e.column === undefined ? {} : { column: e.column }),
      });
    }
    const { hashedNames, keptUnhashed, alreadyHashed } = this;
    return ok({ bytes: this.#out.bytes(), hashedNames, keptUnhashed, alreadyHashed });
  }
}

/** The salts of a SaltSource (deterministic in tests), each copied into one 20-byte buffer. */
class GivenSalts implements SaltDraw {
  readonly bytes = new Uint8Array(HASH_SALT_BYTES);

  constructor(readonly source: SaltSource) {}

  next(): number {
    const salt = this.source();
    if (salt.length !== HASH_SALT_BYTES) throw new Error(`bug: a salt source gave ${salt.length} bytes`);
    this.bytes.set(salt);
    return 0;
  }
}

function missingKeyData(): KnownHostsError {
  return { code: 'BAD_KEY', message: 'no known key type followed by key data' };
}

/**
 * hostfile.c's check without HKF_WANT_PARSE_KEY: the key type (up to a blank) is one psm reads,
 * and something other than blanks and a `#` follows it.
 */
function keyTypeThenData(bytes: Buffer, start: number, end: number): boolean {
  let p = start;
  while (p < end && bytes[p] !== 0x20 && bytes[p] !== 0x09) p++;
  if (p === end || !knownKeyType(bytes, start, p)) return false;
  while (p < end && (bytes[p] === 0x20 || bytes[p] === 0x09)) p++;
  return p < end && bytes[p] !== HASH_SIGN;
}

/** The last key type found known: most lines of a file have the same, so most checks are a compare. */
let lastKnownType = Buffer.alloc(0);

function knownKeyType(bytes: Buffer, start: number, end: number): boolean {
  if (sameBytes(bytes, start, end, lastKnownType)) return true;
  if (end - start > 64 || textKeyType(bytes.toString('latin1', start, end)) === undefined) return false;
  lastKnownType = Buffer.from(bytes.subarray(start, end));
  return true;
}

/** A loop, not Buffer.compare: for an 11-byte type name the native call cost more than the compare. */
function sameBytes(bytes: Buffer, start: number, end: number, other: Buffer): boolean {
  if (end - start !== other.length) return false;
  for (let i = 0; i < other.length; i++) if (bytes[start + i] !== other[i]) return false;
  return true;
}

function asciiLower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

/**
 * Hashing a known_hosts file like `ssh-keygen -H` (ssh-keygen.c known_hosts_hash): each name of a
 * plain host list becomes its own `|1|salt|hash` line with the rest of the line kept verbatim;
 * lines with a marker, a wildcard or negation, already-hashed lines, comments and blank lines are
 * kept as they are. A file with any invalid line is refused whole, as ssh-keygen refuses it.
 */
import { err, ok, type Result } from '../../common/result.js';
import type { KnownHostsError } from './errors.js';
import { HASH_MAGIC, HostNameHmac, randomSalts, type SaltSource } from './hash.js';
import type { KnownHostsEntry } from './line.js';
import type { NumberedKnownHostsLine } from './match.js';
import { asciiLower } from './pattern.js';

export interface HashCounts {
  /** Host names that were hashed (each became one line). */
  readonly hashedNames: number;
  /** Entry lines kept unhashed because of a marker, a wildcard or negation. */
  readonly keptUnhashed: number;
  /** Entry lines that were hashed already. */
  readonly alreadyHashed: number;
}

export interface HashedKnownHostsFile extends HashCounts {
  /** The new file's text, every line ending in `\n`. */
  readonly text: string;
}

export interface HashedKnownHostsBytes extends HashCounts {
  /** The new file's UTF-8 bytes, every line ending in `\n`. */
  readonly bytes: Uint8Array;
}

export interface HashFileInput extends NumberedKnownHostsLine {
  /** The line exactly as read (kept verbatim where it is not hashed). */
  readonly text: string;
}

/**
 * One pass over the lines as they are parsed (a file's lines need not all be held at once);
 * the first invalid line stops the output, and the rest are only counted for the message.
 * Salts come from `saltSource`, one per hashed name in file order (random unless given).
 */
export function hashKnownHostsFile(
  lines: Iterable<HashFileInput>,
  saltSource: SaltSource = randomSalts(),
): Result<HashedKnownHostsFile, KnownHostsError> {
  const hashed = hashKnownHostsBytes(lines, saltSource);
  if (!hashed.ok) return hashed;
  const { bytes, ...counts } = hashed.value;
  return ok({ text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'), ...counts });
}

/**
 * hashKnownHostsFile, the new file as bytes: each output line is written into one growing buffer
 * as it is made, so a large file's hundred thousand lines are not each kept as a string until
 * the end (they made the collector copy them, a fifth of `psm known-hosts hash`'s time).
 */
export function hashKnownHostsBytes(
  lines: Iterable<HashFileInput>,
  saltSource: SaltSource = randomSalts(),
): Result<HashedKnownHostsBytes, KnownHostsError> {
  const out = new LineSink();
  let hashedNames = 0;
  let keptUnhashed = 0;
  let alreadyHashed = 0;
  let invalid = 0;
  let first: { line: number; error: KnownHostsError } | null = null;
  for (const { line, text, result } of lines) {
    if (!result.ok) {
      invalid += 1;
      first ??= { line, error: result.error };
      continue;
    }
    if (first !== null) continue;
    if (result.value.kind !== 'entry') {
      out.push(text);
      continue;
    }
    const entry = result.value;
    if (entry.hosts.kind === 'hashed') {
      alreadyHashed += 1;
      out.push(text);
    } else if (!hashable(entry) || entry.hosts.patterns.length === 0) {
      keptUnhashed += 1;
      out.push(text);
    } else {
      const rest = rawKeyText(text);
      for (const p of entry.hosts.patterns) {
        out.push(`${hashedHostField(asciiLower(p.pattern), saltSource())} ${rest}`);
        hashedNames += 1;
      }
    }
  }
  if (first !== null) {
    const e = first.error;
    return err({
      code: 'FILE_HAS_INVALID_LINES',
      message: `${invalid} invalid line(s), nothing written; first: line ${first.line}: ${e.code}: ${e.message}`,
      line: first.line,
      ...(e.column === undefined ? {} : { column: e.column }),
    });
  }
  return ok({ bytes: out.bytes(), hashedNames, keptUnhashed, alreadyHashed });
}

/** serializeHashedHost(hashHostName(name, salt)), written straight from the salt and the HMAC. */
function hashedHostField(name: string, salt: Uint8Array): string {
  const mac = new HostNameHmac(name).of(salt, 'base64');
  return `${HASH_MAGIC}${Buffer.from(salt.buffer, salt.byteOffset, salt.length).toString('base64')}|${mac}`;
}

/** ssh-keygen keeps marker lines and any host field with `*`, `?` or `!` unhashed. */
function hashable(entry: KnownHostsEntry): boolean {
  if (entry.marker !== null || entry.hosts.kind !== 'patterns') return false;
  return entry.hosts.patterns.every((p) => !p.negated && !/[*?]/.test(p.pattern));
}

/** The line from the key type on (ssh's `rawkey`): past leading blanks, the host field and blanks. */
function rawKeyText(text: string): string {
  const match = /^[ \t]*[^ \t]+[ \t]+/.exec(text);
  if (match === null) throw new Error('bug: a valid entry line has no host field');
  return text.slice(match[0].length);
}

/** Lines written as UTF-8 into one buffer that doubles when full; each line gets its `\n`. */
class LineSink {
  #buffer = Buffer.allocUnsafe(64 * 1024);
  #length = 0;

  push(line: string): void {
    const needed = this.#length + Buffer.byteLength(line, 'utf8') + 1;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    this.#length += this.#buffer.write(line, this.#length, 'utf8');
    this.#buffer[this.#length++] = 0x0a;
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.#buffer.buffer, this.#buffer.byteOffset, this.#length);
  }
}

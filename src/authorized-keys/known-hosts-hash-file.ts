/**
 * Hashing a known_hosts file like `ssh-keygen -H` (ssh-keygen.c known_hosts_hash): each name of a
 * plain host list becomes its own `|1|salt|hash` line with the rest of the line kept verbatim;
 * lines with a marker, a wildcard or negation, already-hashed lines, comments and blank lines are
 * kept as they are. A file with any invalid line is refused whole, as ssh-keygen refuses it.
 */
import { err, ok, type Result } from '../common/result.js';
import type { KnownHostsError } from './known-hosts-errors.js';
import { hashHostName, randomSalt, serializeHashedHost, type SaltSource } from './known-hosts-hash.js';
import type { KnownHostsEntry } from './known-hosts-line.js';
import type { NumberedKnownHostsLine } from './known-hosts-match.js';
import { asciiLower } from './known-hosts-pattern.js';

export interface HashedKnownHostsFile {
  /** The new file's text, every line ending in `\n`. */
  readonly text: string;
  /** Host names that were hashed (each became one line). */
  readonly hashedNames: number;
  /** Entry lines kept unhashed because of a marker, a wildcard or negation. */
  readonly keptUnhashed: number;
  /** Entry lines that were hashed already. */
  readonly alreadyHashed: number;
}

export interface HashFileInput extends NumberedKnownHostsLine {
  /** The line exactly as read (kept verbatim where it is not hashed). */
  readonly text: string;
}

export function hashKnownHostsFile(
  lines: readonly HashFileInput[],
  saltSource: SaltSource = randomSalt,
): Result<HashedKnownHostsFile, KnownHostsError> {
  const invalid = lines.filter((l) => !l.result.ok);
  const first = invalid[0];
  if (first !== undefined && !first.result.ok) {
    const e = first.result.error;
    return err({
      code: 'FILE_HAS_INVALID_LINES',
      message: `${invalid.length} invalid line(s), nothing written; first: line ${first.line}: ${e.code}: ${e.message}`,
      line: first.line,
      ...(e.column === undefined ? {} : { column: e.column }),
    });
  }
  const out: string[] = [];
  let hashedNames = 0;
  let keptUnhashed = 0;
  let alreadyHashed = 0;
  for (const { text, result } of lines) {
    if (!result.ok || result.value.kind !== 'entry') {
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
        const hashed = hashHostName(asciiLower(p.pattern), saltSource());
        out.push(`${serializeHashedHost(hashed)} ${rest}`);
        hashedNames += 1;
      }
    }
  }
  return ok({ text: out.map((l) => `${l}\n`).join(''), hashedNames, keptUnhashed, alreadyHashed });
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

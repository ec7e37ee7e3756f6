/**
 * Looking one host up in a whole file's bytes the way ssh does (hostfile.c hostkeys_foreach_file
 * with HKF_WANT_MATCH | HKF_WANT_PARSE_KEY): every line's marker and host field are read and
 * checked, and the rest of a line, its key and comment, is read only when the line applies to
 * the host. A line for another host never contributes to the answer, so not parsing its key
 * changes no answer; any line whose host field cannot be read could be a line for this host,
 * so it still makes the file invalid. psm keys inspect --format known_hosts reads every key.
 */
import { isUtf8 } from 'node:buffer';
import { InvalidLines, lineText } from './file-line-text.js';
import { HostNameHmac } from './hash.js';
import { parseKnownHostsLine, readKnownHostsHead } from './line.js';
import type { HostLookup, KnownHostsMatch } from './match.js';
import { matchHostPatterns } from './pattern.js';
import { HmacSha1 } from './hmac-sha1.js';
import { LineSkim, SKIM_COMMENT, SKIM_ENTRY, skimmedPatternsMatch } from './skim.js';

const NEWLINE = 0x0a;

/**
 * The lines of `data` that apply to `name` (a lookupName() result), in file order, with the
 * invalid lines counted: the answer lookUpHost gives for the same file, except that a line for
 * another host whose key or comment is invalid is not counted (its key is never read).
 */
export function lookUpHostInFile(data: Uint8Array, name: string): HostLookup {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  const nameBytes = Buffer.from(name, 'utf8');
  const hmac = new HmacSha1(nameBytes);
  const exact = new ExactLookup(name);
  const skim = new LineSkim();
  // The skim reads bytes as ASCII; in a file that is not UTF-8, every line goes to the reader.
  const skimmable = isUtf8(bytes);
  let line = 0;
  for (let start = 0; start < bytes.length;) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) end = bytes.length;
    line += 1;
    const kind = skimmable ? skim.read(bytes, start, end) : -1;
    const skipped =
      kind === SKIM_COMMENT ||
      (kind === SKIM_ENTRY &&
        !(skim.hashed
          ? hmac.matches(skim.salt, 0, skim.mac, 0)
          : skimmedPatternsMatch(skim, bytes, nameBytes)));
    // A line that applies is read whole by the reader (so is every line the skim left to it).
    if (!skipped) exact.read(bytes.subarray(start, end), line);
    start = end + 1;
  }
  return { matches: exact.matches, invalidLines: exact.invalid.count, firstInvalid: exact.invalid.first };
}

/** The exact reader's answer for single lines: readKnownHostsHead, then the whole line if it applies. */
class ExactLookup {
  readonly matches: KnownHostsMatch[] = [];
  readonly invalid = new InvalidLines();
  readonly #hmac: HostNameHmac;

  constructor(readonly name: string) {
    this.#hmac = new HostNameHmac(name);
  }

  read(bytes: Uint8Array, line: number): void {
    const text = lineText(bytes, line);
    if (!text.ok) return this.invalid.add(line, text.error);
    const head = readKnownHostsHead(text.value);
    if (head.ok && head.value.kind !== 'head') return;
    const hosts = head.ok && head.value.kind === 'head' ? head.value.hosts : null;
    const applies =
      hosts === null ||
      (hosts.kind === 'hashed'
        ? this.#hmac.matches(hosts.hashed)
        : matchHostPatterns(this.name, hosts.patterns) === 'positive');
    if (!applies) return;
    // The whole line: its key, and parseKnownHostsLine's own error for a head that failed.
    const parsed = parseKnownHostsLine(text.value);
    if (!parsed.ok) return this.invalid.add(line, parsed.error);
    const entry = parsed.value;
    if (entry.kind !== 'entry') return;
    this.matches.push({ line, marker: entry.marker, hashed: entry.hosts.kind === 'hashed', key: entry.key });
  }
}

/**
 * The whole-file commands (lookUpHostInFile, hashKnownHostsData) skim lines from their bytes and
 * read keys only where OpenSSH does. They are held here to the exact line reader on files of
 * valid and broken lines mixed (markers with spaces and tabs, hashed and bracketed hosts, bad
 * patterns, bad keys, control characters, invalid UTF-8, CR line ends):
 * - a lookup finds exactly the lines lookUpHost finds, and counts as invalid exactly the lines
 *   parseKnownHostsFile refuses, less those whose head (marker and host field) reads fine and
 *   does not apply to the host: their key is never read;
 * - hashing refuses exactly the files with a line whose head or key type fails, and otherwise
 *   writes what hashKnownHostsBytes writes for the same salts (when every line is valid), with
 *   every other line's key and comment copied byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HASH_SALT_BYTES,
  hashHostName,
  hashKnownHostsBytes,
  hashKnownHostsData,
  lookUpHost,
  lookUpHostInFile,
  lookupName,
  matchHostPatterns,
  parseKnownHostsFile,
  readKnownHostsHead,
  serializeHashedHost,
  hashedHostMatches,
  type HostLookup,
} from '../../src/authorized-keys/known-hosts/index.js';
import { textKeyType } from '../../src/authorized-keys/keys/key-types.js';
import { loadKnownHostsTestKeys } from '../helpers/known-hosts-keys.js';

const keys = [...loadKnownHostsTestKeys().values()].map((k) => k.text);
const NAMES = ['web.example', 'Web.Example', 'db.example', '10.0.0.5', '[web.example]:2222', 'fe80::1%eth0'];

const blank = fc.constantFrom(' ', '\t', '  ', ' \t');
const hostPattern = fc.oneof(
  fc.constantFrom(...NAMES),
  fc.constantFrom('*.example', 'w?b.example', '!db.example', '![web.example]:2222', '[*.example]:22??'),
  fc.constantFrom('[web.example]:0', '[web.example]:65536', '[web.example]:022', 'a[b]:22', 'bad name'),
  fc.constantFrom('', '!', 'wéb.example', 'web\r', `${'a'.repeat(1023)}`, '[web.example]:'),
);
const hostField = fc.oneof(
  { weight: 3, arbitrary: fc.array(hostPattern, { minLength: 1, maxLength: 3 }).map((p) => p.join(',')) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...NAMES),
        fc.uint8Array({ minLength: HASH_SALT_BYTES, maxLength: HASH_SALT_BYTES }),
      )
      .map(([name, salt]) => serializeHashedHost(hashHostName(name.toLowerCase(), salt))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '|1|AAAAAAAAAAAAAAAAAAAAAAAAAAA=|AAAAAAAAAAAAAAAAAAAAAAAAAAB=',
      '|1|AAAA|AAAA',
      '|2|AAAAAAAAAAAAAAAAAAAAAAAAAAA=|AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      '|1|AAAAAAAAAAAAAAAAAAAAAAAAAAA=|AAAAAAAAAAAAAAAAAAAAAAAAAAA=|',
    ),
  },
);
const marker = fc.constantFrom(
  '',
  '',
  '',
  '@revoked ',
  '@cert-authority ',
  '@revoked\t',
  '@bogus ',
  '@revoked @revoked ',
);
const keyText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...keys) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('ssh-ed25519 AAAA', 'ssh-foo AAAA', 'ssh-ed25519', 'ssh-ed25519 #x', ''),
  },
);
const comment = fc.constantFrom('', '', ' worker', ' c#1 é', ' \r', '\t tail');
const entryLine = fc
  .tuple(fc.constantFrom('', ' ', '\t'), marker, hostField, blank, keyText, comment)
  .map(([lead, m, h, b, k, c]) => `${lead}${m}${h}${b}${k}${c}`);
const otherLine = fc.oneof(
  fc.constantFrom('', '   ', '# comment', '  # é', '#\r', '\r', 'lonehost', 'host\t'),
  fc.string({ maxLength: 40 }),
);
const fileLines = fc.array(
  fc.oneof({ weight: 4, arbitrary: entryLine }, { weight: 1, arbitrary: otherLine }),
  {
    maxLength: 12,
  },
);
/** The file's bytes; sometimes with an invalid UTF-8 byte in one line, sometimes no final newline. */
const file = fc
  .tuple(fileLines, fc.option(fc.nat(), { nil: null }), fc.boolean())
  .map(([lines, broken, finalNewline]) => {
    const parts = lines.map((l) => Buffer.from(l));
    if (broken !== null && parts.length > 0) {
      const at = broken % parts.length;
      parts[at] = Buffer.concat([parts[at] ?? Buffer.alloc(0), Buffer.from([0xff])]);
    }
    const joined = Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from('\n'), p])));
    return new Uint8Array(
      finalNewline && joined.length > 0 ? Buffer.concat([joined, Buffer.from('\n')]) : joined,
    );
  });

/** Whether a line's head says it applies to name; null if the head cannot be read. */
function appliesTo(name: string, text: string): boolean | null {
  const head = readKnownHostsHead(text);
  if (!head.ok) return null;
  if (head.value.kind !== 'head') return false;
  const hosts = head.value.hosts;
  return hosts.kind === 'hashed'
    ? hashedHostMatches(name, hosts.hashed)
    : matchHostPatterns(name, hosts.patterns) === 'positive';
}

function comparable(lookup: HostLookup): Record<string, unknown> {
  return {
    matches: lookup.matches.map((m) => [m.line, m.marker, m.hashed, m.key.base64]),
    invalidLines: lookup.invalidLines,
    firstInvalid:
      lookup.firstInvalid === null
        ? null
        : [lookup.firstInvalid.line, lookup.firstInvalid.error.code, lookup.firstInvalid.error.column],
  };
}

describe('lookUpHostInFile', () => {
  it('is lookUpHost, less the invalid lines for other hosts whose head reads fine', () => {
    fc.assert(
      fc.property(file, fc.constantFrom(...NAMES), (data, target) => {
        const name = lookupName(
          target.replace(/^\[(.*)\]:2222$/, '$1'),
          target.endsWith(':2222') ? 2222 : 22,
        );
        if (!name.ok) throw new Error(name.error.message);
        const rows = parseKnownHostsFile(data);
        const exact = lookUpHost(rows, name.value);
        // A refused line stays counted unless its head is fine and is for another host (a line
        // that is not UTF-8 or too long is always counted: its head is never read).
        const counted = rows.filter(
          (r) =>
            !r.result.ok &&
            (r.result.error.code === 'INVALID_UTF8' ||
              r.result.error.code === 'LINE_TOO_LONG' ||
              appliesTo(name.value, r.text) !== false),
        );
        const first = counted[0];
        const expected = {
          ...comparable(exact),
          invalidLines: counted.length,
          firstInvalid:
            first === undefined || first.result.ok
              ? null
              : [first.line, first.result.error.code, first.result.error.column],
        };
        expect(comparable(lookUpHostInFile(data, name.value))).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

/** Salts 01 01 ..., 02 02 ..., in order. */
function countingSalts(): () => Uint8Array {
  let n = 0;
  return () => new Uint8Array(HASH_SALT_BYTES).fill((n = (n % 255) + 1));
}

/** What ssh-keygen -H checks past the host field: a key type psm knows, then key data. */
function keyTypeThenData(rest: string): boolean {
  const match = /^([^ \t]+)[ \t]+([^ \t])/.exec(rest);
  return match !== null && textKeyType(match[1] ?? '') !== undefined && match[2] !== '#';
}

function hashedLineCount(text: string): number {
  const head = readKnownHostsHead(text);
  if (!head.ok || head.value.kind !== 'head') return 1;
  const { marker, hosts } = head.value;
  if (marker !== null || hosts.kind === 'hashed') return 1;
  const hashable = hosts.patterns.every((p) => !p.negated && !/[*?]/.test(p.pattern));
  return hashable ? hosts.patterns.length : 1;
}

describe('hashKnownHostsData', () => {
  it('refuses exactly the files with a line whose head or key type fails; else hashes as hashKnownHostsBytes', () => {
    fc.assert(
      fc.property(file, (data) => {
        const rows = parseKnownHostsFile(data);
        const refused = rows.filter((r) => {
          if (r.result.ok) return false;
          if (r.result.error.code === 'LINE_TOO_LONG' || r.result.error.code === 'INVALID_UTF8') return true;
          const head = readKnownHostsHead(r.text);
          if (!head.ok) return true;
          return head.value.kind === 'head' && !keyTypeThenData(r.text.slice(head.value.keyStart));
        });
        const ours = hashKnownHostsData(data, countingSalts());
        expect(ours.ok ? null : ours.error.line).toBe(refused[0]?.line ?? null);
        if (!ours.ok) {
          expect(ours.error.message).toContain(`${refused.length} invalid line(s)`);
          return;
        }
        const exact = hashKnownHostsBytes(rows, countingSalts());
        if (exact.ok) {
          expect(Buffer.from(ours.value.bytes)).toEqual(Buffer.from(exact.value.bytes));
          return;
        }
        // Lines refused past their head only (a key, a control character in a comment): ours
        // still writes one line per hashed name and every other line as it was.
        const outLines = Buffer.from(ours.value.bytes).toString('latin1').split('\n').length - 1;
        expect(outLines).toBe(rows.reduce((n, r) => n + hashedLineCount(r.text), 0));
      }),
      { numRuns: 2000 },
    );
  });

  it('copies a line whose key data is not a key byte for byte behind each hashed name, as ssh-keygen -H does', () => {
    const out = hashKnownHostsData(new Uint8Array(Buffer.from('a,B ssh-ed25519 AAAA x\n')), countingSalts());
    if (!out.ok) throw new Error(out.error.message);
    const lines = Buffer.from(out.value.bytes).toString().split('\n');
    expect(lines.map((l) => l.slice(l.indexOf(' ')))).toEqual([
      ' ssh-ed25519 AAAA x',
      ' ssh-ed25519 AAAA x',
      '',
    ]);
    expect(out.value.hashedNames).toBe(2);
  });
});

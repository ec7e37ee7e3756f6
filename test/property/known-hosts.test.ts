/**
 * Round trips and robustness of the known_hosts module: parse(serialize(x)) == x for lines and
 * files, the parser never throws on any input, hashing keeps every name findable, and the
 * linear wildcard matcher agrees with a regular-expression reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  findHost,
  globMatch,
  hashKnownHostsFile,
  lookupName,
  parseKnownHostsFile,
  parseKnownHostsLine,
  serializeKnownHostsFile,
  serializeKnownHostsLine,
  type HostPattern,
  type KnownHostsEntry,
  type KnownHostsErrorCode,
  type KnownHostsLine,
} from '../../src/authorized-keys/known-hosts/index.js';
import { loadKnownHostsTestKeys } from '../helpers/known-hosts-keys.js';

const keys = [...loadKnownHostsTestKeys().values()].map((k) => k.key);

const label = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,10}$/);
const hostName = fc.array(label, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));
const wildcarded = fc
  .tuple(hostName, fc.nat(), fc.constantFrom('*', '?'))
  .map(([name, at, w]) => `${name.slice(0, at % name.length)}${w}${name.slice((at % name.length) + 1)}`);
const ipv4 = fc.ipV4();
const plainHost = fc.oneof(hostName, ipv4, fc.constant('::1'), fc.constant('fe80::1%eth0'));
const port = fc.integer({ min: 1, max: 65535 }).map(String);
const pattern: fc.Arbitrary<HostPattern> = fc.record({
  negated: fc.boolean(),
  pattern: fc.oneof(
    plainHost,
    wildcarded,
    fc
      .tuple(fc.oneof(plainHost, wildcarded), fc.oneof(port, fc.constant('22*')))
      .map(([h, p]) => `[${h}]:${p}`),
  ),
});
const bytes20 = fc.uint8Array({ minLength: 20, maxLength: 20 });
// Comments: any printable text (also '#', quotes, non-ASCII), not starting with a blank.
const comment = fc.option(
  fc
    .string({
      unit: fc.constantFrom('a', 'Z', '0', ' ', '\t', '#', '"', 'é', '✓', '|', ',', '@'),
      maxLength: 30,
    })
    .map((s) => `c${s}`),
  { nil: null },
);

const entry: fc.Arbitrary<KnownHostsEntry> = fc.record({
  kind: fc.constant('entry' as const),
  marker: fc.constantFrom(null, 'cert-authority' as const, 'revoked' as const),
  hosts: fc.oneof(
    fc.record({
      kind: fc.constant('patterns' as const),
      patterns: fc.array(pattern, { minLength: 1, maxLength: 5 }),
    }),
    fc.record({ kind: fc.constant('hashed' as const), hashed: fc.record({ salt: bytes20, hash: bytes20 }) }),
  ),
  key: fc.constantFrom(...keys),
  comment,
});
const textLine: fc.Arbitrary<KnownHostsLine> = fc.oneof(
  fc.stringMatching(/^[ \t]{0,4}$/).map((text) => ({ kind: 'blank' as const, text })),
  fc.stringMatching(/^[ \t]{0,2}#[ -~]{0,20}$/).map((text) => ({ kind: 'comment' as const, text })),
);
const line = fc.oneof({ weight: 4, arbitrary: entry }, { weight: 1, arbitrary: textLine });

const CODES: readonly KnownHostsErrorCode[] = [
  'LINE_TOO_LONG',
  'INVALID_UTF8',
  'CONTROL_CHARACTER',
  'BAD_MARKER',
  'MISSING_KEY',
  'EMPTY_HOST_PATTERN',
  'BAD_HOST_PATTERN',
  'HOST_PATTERN_TOO_LONG',
  'TOO_MANY_HOST_PATTERNS',
  'BAD_PORT',
  'BAD_HASHED_HOST',
  'BAD_KEY',
  'UNREPRESENTABLE',
  'BAD_LOOKUP_HOST',
  'FILE_HAS_INVALID_LINES',
];

/** Comparable form: byte arrays as hex, keys as their text. */
function plain(l: KnownHostsLine): unknown {
  if (l.kind !== 'entry') return l;
  const hosts =
    l.hosts.kind === 'hashed'
      ? {
          kind: 'hashed',
          salt: Buffer.from(l.hosts.hashed.salt).toString('hex'),
          hash: Buffer.from(l.hosts.hashed.hash).toString('hex'),
        }
      : l.hosts;
  return { ...l, hosts, key: `${l.key.type} ${l.key.base64}` };
}

describe('known_hosts round trips', () => {
  it('parse(serialize(line)) == line', () => {
    fc.assert(
      fc.property(line, (l) => {
        const text = serializeKnownHostsLine(l);
        expect(text.ok).toBe(true);
        if (!text.ok) return;
        expect(text.value).not.toMatch(/[\n\r]/);
        const back = parseKnownHostsLine(text.value);
        expect(back.ok).toBe(true);
        if (back.ok) expect(plain(back.value)).toEqual(plain(l));
      }),
      { numRuns: 500 },
    );
  });

  it('parse(serialize(file)) == file', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const text = serializeKnownHostsFile(lines);
        expect(text.ok).toBe(true);
        if (!text.ok) return;
        const back = parseKnownHostsFile(text.value);
        expect(back.map((b) => (b.result.ok ? plain(b.result.value) : b.result.error))).toEqual(
          lines.map(plain),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('the serializer refuses comments and patterns it cannot write back exactly', () => {
    const key = keys[0];
    if (key === undefined) throw new Error('no test key');
    const base: KnownHostsEntry = {
      kind: 'entry',
      marker: null,
      hosts: { kind: 'patterns', patterns: [{ negated: false, pattern: 'a.example' }] },
      key,
      comment: null,
    };
    const bad: KnownHostsEntry[] = [
      { ...base, comment: ' leading blank' },
      { ...base, comment: 'line\nbreak' },
      { ...base, comment: 'carriage\rreturn' },
      { ...base, comment: '' },
      { ...base, hosts: { kind: 'patterns', patterns: [{ negated: false, pattern: 'a,b' }] } },
      { ...base, hosts: { kind: 'patterns', patterns: [{ negated: false, pattern: 'a b' }] } },
      { ...base, hosts: { kind: 'patterns', patterns: [{ negated: false, pattern: '!a' }] } },
      { ...base, hosts: { kind: 'patterns', patterns: [] } },
      { ...base, hosts: { kind: 'hashed', hashed: { salt: new Uint8Array(19), hash: new Uint8Array(20) } } },
    ];
    for (const l of bad) {
      const out = serializeKnownHostsLine(l);
      expect(out.ok ? out.value : out.error.code, JSON.stringify(plain(l))).toBe('UNREPRESENTABLE');
    }
  });
});

describe('known_hosts parser robustness', () => {
  it('never throws on any string, and every error is coded with a sane column', () => {
    const unit = fc.constantFrom(
      'a',
      ' ',
      '\t',
      ',',
      '!',
      '*',
      '|',
      '@',
      '[',
      ']',
      ':',
      '#',
      '\r',
      '\u0000',
      'é',
      '1',
    );
    const prefix = fc.constantFrom('', '@revoked ', '@cert-authority ', '|1|', 'host ssh-ed25519 ', '@');
    fc.assert(
      fc.property(prefix, fc.string({ unit, maxLength: 60 }), (p, s) => {
        for (const l of parseKnownHostsFile(p + s)) {
          if (l.result.ok) continue;
          expect(CODES).toContain(l.result.error.code);
          expect(l.result.error.line).toBe(l.line);
          const column = l.result.error.column;
          if (column !== undefined) expect(column).toBeGreaterThanOrEqual(1);
          if (column !== undefined) expect(column).toBeLessThanOrEqual(l.text.length + 1);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('the per-file key cache changes no result (same as parsing each line alone)', () => {
    const keyText = fc.constantFrom(
      ...keys.map((k) => `${k.type} ${k.base64}`),
      'ssh-ed25519 AAAA',
      'ssh-rsa',
    );
    const rawLine = fc
      .tuple(
        fc.constantFrom('', '@revoked ', ' '),
        fc.constantFrom('a.example', 'b,c', '!x'),
        keyText,
        fc.constantFrom('', ' c', '\t#x'),
      )
      .map(([m, h, k, c]) => `${m}${h} ${k}${c}`);
    fc.assert(
      fc.property(fc.array(rawLine, { maxLength: 10 }), (raw) => {
        const whole = parseKnownHostsFile(raw.join('\n')).map((l) => l.result);
        const alone = raw.map((t) => parseKnownHostsLine(t));
        const view = (r: (typeof alone)[number]): unknown =>
          r.ok ? plain(r.value) : [r.error.code, r.error.column];
        expect(whole.map(view)).toEqual(alone.map(view));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        const lines = parseKnownHostsFile(data);
        for (const l of lines) if (!l.result.ok) expect(CODES).toContain(l.result.error.code);
      }),
      { numRuns: 500 },
    );
  });
});

describe('known_hosts hashing and matching', () => {
  it('every hashed name is still found, with its key, and nothing else changes', () => {
    const plainEntry = entry.filter((e) => e.hosts.kind === 'patterns');
    fc.assert(
      fc.property(fc.array(fc.oneof(plainEntry, textLine), { maxLength: 8 }), (lines) => {
        const text = serializeKnownHostsFile(lines);
        if (!text.ok) throw new Error('serialize failed');
        const parsed = parseKnownHostsFile(text.value);
        const hashed = hashKnownHostsFile(parsed);
        expect(hashed.ok).toBe(true);
        if (!hashed.ok) return;
        const after = parseKnownHostsFile(hashed.value.text);
        expect(after.every((l) => l.result.ok)).toBe(true);
        for (const l of lines) {
          if (l.kind !== 'entry' || l.hosts.kind !== 'patterns') continue;
          for (const p of l.hosts.patterns) {
            if (/[*?[\]:%]/.test(p.pattern)) continue;
            const name = lookupName(p.pattern);
            if (!name.ok) continue;
            const before = findHost(parsed, name.value).map((m) => `${m.marker} ${m.key.base64}`);
            const now = findHost(after, name.value).map((m) => `${m.marker} ${m.key.base64}`);
            expect(now).toEqual(before);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('the linear wildcard matcher agrees with a regular-expression reference', () => {
    const unit = fc.constantFrom('a', 'b', '.', '*', '?');
    const toRegExp = (p: string): RegExp =>
      new RegExp(
        `^${[...p].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c === '.' ? '\\.' : c)).join('')}$`,
        's',
      );
    fc.assert(
      fc.property(
        fc.string({ unit, maxLength: 10 }),
        fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 12 }),
        (p, text) => {
          expect(globMatch(text, p)).toBe(toRegExp(p).test(text));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

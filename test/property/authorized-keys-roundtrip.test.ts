/**
 * Round trips: parse(serialize(x)) == x for key lines and options fields, and the serializer
 * either writes something that reads back identically or refuses with a coded error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultKeyOptions,
  optionItems,
  parseAuthorizedKeysLine,
  parseKeyOptions,
  parsePublicKey,
  serializeAuthorizedKeysLine,
  serializeOptions,
  type AuthorizedKeysEntry,
  type KeyOptions,
  type OptionItem,
} from '../../src/authorized-keys/index.js';

const KEY = parsePublicKey(
  'ssh-ed25519',
  'AAAAC3NzaC1lZDI1NTE5AAAAIKXMQ7uLz/4KK698PkY9sWAo3Q7DEq4+uLi9HsCoumDN',
);
if (!KEY.ok) throw new Error('test key does not parse');

const FLAG = fc.constantFrom(
  'restrict',
  'cert-authority',
  ...[
    'port-forwarding',
    'agent-forwarding',
    'x11-forwarding',
    'pty',
    'user-rc',
    'touch-required',
    'verify-required',
  ].flatMap((name) => [name, `no-${name}`]),
);
/** Values with the characters that need care: quotes, backslashes, blanks, commas, non-ASCII. */
const VALUE = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', ' ', '\t', '"', '\\', ',', '=', '\u00e9', '\u{1F511}'),
});
const ENV_NAME = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
const HOST = fc.constantFrom('localhost', '*', 'h.example.org', '[::1]', '[2001:db8::1]', '10.0.0.1', '');
const PORT = fc.oneof(fc.integer({ min: 1, max: 65535 }).map(String), fc.constant('*'), fc.constant('ssh'));
const EXPIRY = fc.constantFrom('20991231', '209912312359', '20991231235959Z', '20991231UTC', '20300101z');

const ITEM: fc.Arbitrary<OptionItem> = fc.oneof(
  FLAG.map((name) => ({ name })),
  fc.constantFrom('command', 'principals', 'from').chain((name) => VALUE.map((value) => ({ name, value }))),
  fc.tuple(ENV_NAME, VALUE).map(([n, v]) => ({ name: 'environment', value: `${n}=${v}` })),
  fc.tuple(HOST, PORT).map(([h, p]) => ({ name: 'permitopen', value: `${h}:${p}` })),
  fc
    .oneof(
      PORT.filter((p) => p !== '*'),
      fc.tuple(HOST, PORT).map(([h, p]) => `${h}:${p}`),
    )
    .map((value) => ({
      name: 'permitlisten',
      value,
    })),
  EXPIRY.map((value) => ({ name: 'expiry-time', value })),
  fc
    .oneof(fc.constant('any'), fc.integer({ min: 0, max: 2147483645 }).map(String))
    .map((value) => ({ name: 'tunnel', value })),
);

function withoutRepeats(items: OptionItem[]): OptionItem[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    if (!['command', 'principals', 'from'].includes(item.name)) return true;
    if (seen.has(item.name)) return false;
    seen.add(item.name);
    return true;
  });
}

const OPTIONS: fc.Arbitrary<KeyOptions> = fc
  .array(ITEM, { maxLength: 12 })
  .map(withoutRepeats)
  .map((items) => {
    const field = serializeOptions(items);
    if (!field.ok) return null;
    const parsed = parseKeyOptions(field.value);
    return parsed.ok ? parsed.value : null;
  })
  .filter((options): options is KeyOptions => options !== null);

const COMMENT = fc.option(
  fc
    .string({ unit: fc.constantFrom('a', ' ', '\t', '#', '"', '\u00e9') })
    .filter((c) => c !== '' && !/^[ \t]/.test(c)),
  { nil: null },
);

describe('authorized_keys round trips', () => {
  it('parse(serialize(entry)) == entry for key lines', () => {
    fc.assert(
      fc.property(OPTIONS, COMMENT, (options, comment) => {
        const entry: AuthorizedKeysEntry = { kind: 'key', options, key: KEY.value, comment };
        const line = serializeAuthorizedKeysLine(entry);
        if (!line.ok) throw new Error(`${line.error.code}: ${line.error.message}`);
        expect(line.value).not.toMatch(/[\r\n\0]/);
        const back = parseAuthorizedKeysLine(line.value);
        expect(back.ok).toBe(true);
        if (!back.ok || back.value.kind !== 'key') return;
        expect(back.value.options).toEqual(options);
        expect(back.value.comment).toBe(comment);
        expect(back.value.key.fingerprint).toBe(KEY.value.fingerprint);
      }),
      { numRuns: 500 },
    );
  });

  it('serializeOptions writes exactly what it was given, in order, or refuses with a code', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            ITEM,
            VALUE.map((value) => ({ name: 'command', value: `${value}\n` })),
          ),
        ),
        (items) => {
          const field = serializeOptions(items);
          if (!field.ok) {
            expect(field.error.code).toMatch(/^[A-Z_]+$/);
            return;
          }
          expect(field.value).not.toMatch(/[\r\n\0]/);
          // Same options as applying the items one by one: reparse and compare with a second write.
          const parsed = parseKeyOptions(field.value);
          expect(parsed.ok).toBe(true);
          if (parsed.ok) expect(serializeOptions(optionItems(parsed.value)).ok).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses values it cannot write exactly', () => {
    const bad = ['a\nb', 'a\rb', 'a\0b', 'ends with \\'];
    for (const value of bad) {
      const field = serializeOptions([{ name: 'command', value }]);
      expect(field.ok ? 'ok' : field.error.code).toBe('UNREPRESENTABLE_VALUE');
    }
    const duplicate = { ...defaultKeyOptions(), environment: ['A=1', 'A=2'] };
    const line = serializeAuthorizedKeysLine({
      kind: 'key',
      options: duplicate,
      key: KEY.value,
      comment: null,
    });
    expect(line.ok ? 'ok' : line.error.code).toBe('UNREPRESENTABLE_OPTIONS');
    expect(serializeOptions([{ name: 'frobnicate' }]).ok).toBe(false);
    expect(serializeOptions([{ name: 'pty', value: 'x' }]).ok).toBe(false);
    expect(serializeOptions([{ name: 'command' }]).ok).toBe(false);
  });

  it('round-trips comment and blank lines', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '\t', '#', '\u00e9') }), (text) => {
        const entry: AuthorizedKeysEntry = { kind: 'comment', text: `#${text}` };
        const line = serializeAuthorizedKeysLine(entry);
        expect(line.ok).toBe(true);
        if (line.ok) expect(parseAuthorizedKeysLine(line.value)).toEqual({ ok: true, value: entry });
      }),
    );
    expect(serializeAuthorizedKeysLine({ kind: 'blank' })).toEqual({ ok: true, value: '' });
  });
});

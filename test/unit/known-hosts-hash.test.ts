/** Hashing like ssh-keygen -H, with an injected salt source so the output is exact. */
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HASH_SALT_BYTES,
  HostNameHmac,
  hashHostName,
  hashKnownHostsData,
  hashKnownHostsFile,
  lookUpHostInFile,
  lookupName,
  parseKnownHostsFile,
  parseLookupTarget,
  randomSalts,
  serializeHashedHost,
} from '../../src/authorized-keys/known-hosts/index.js';
import { loadKnownHostsTestKeys, testKey } from '../helpers/known-hosts-keys.js';

const keys = loadKnownHostsTestKeys();
const ED_A = testKey(keys, 'ED_A').text;
const ED_B = testKey(keys, 'ED_B').text;

/** Salts 01 01 ..., 02 02 ..., in order: each hashed name gets the next one. */
function countingSalts(): () => Uint8Array {
  let n = 0;
  return () => new Uint8Array(HASH_SALT_BYTES).fill((n += 1));
}

const hashOf = (name: string, fill: number): string =>
  serializeHashedHost(hashHostName(name, new Uint8Array(HASH_SALT_BYTES).fill(fill)));

describe('known_hosts hashing', () => {
  it('reproduces the line the real ssh-keygen -H wrote for the same salt (lowercased name)', () => {
    // From test/vectors/known-hosts/hashed.vec: ssh-keygen -H hashed "example.com" with this salt.
    const salt = new Uint8Array(Buffer.from('331UiTTKfKdc/rQDvXlFaWawHAE=', 'base64'));
    const lines = parseKnownHostsFile(`Example.COM ${ED_A}\n`);
    const out = hashKnownHostsFile(lines, () => salt);
    expect(out.ok && out.value.text).toBe(
      `|1|331UiTTKfKdc/rQDvXlFaWawHAE=|0Jp91NloyfgnrgH34Ma5rq6xgZs= ${ED_A}\n`,
    );
  });

  it('splits host lists, keeps the rest of the line verbatim, and keeps what ssh-keygen keeps', () => {
    const text = [
      '# header comment',
      '',
      `one.example,Two.Example,[three.example]:2222   ${ED_A}   spaced  comment `,
      `*.wild,x.example ${ED_B}`,
      `a.example,!b.example ${ED_B}`,
      `@revoked gone.example ${ED_B}`,
      `@cert-authority ca.example ${ED_A}`,
      `|1|331UiTTKfKdc/rQDvXlFaWawHAE=|0Jp91NloyfgnrgH34Ma5rq6xgZs= ${ED_A}`,
      `\tindented.example ${ED_B}`,
    ].join('\n');
    const out = hashKnownHostsFile(parseKnownHostsFile(text), countingSalts());
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.value.text).toBe(
      [
        '# header comment',
        '',
        `${hashOf('one.example', 1)} ${ED_A}   spaced  comment `,
        `${hashOf('two.example', 2)} ${ED_A}   spaced  comment `,
        `${hashOf('[three.example]:2222', 3)} ${ED_A}   spaced  comment `,
        `*.wild,x.example ${ED_B}`,
        `a.example,!b.example ${ED_B}`,
        `@revoked gone.example ${ED_B}`,
        `@cert-authority ca.example ${ED_A}`,
        `|1|331UiTTKfKdc/rQDvXlFaWawHAE=|0Jp91NloyfgnrgH34Ma5rq6xgZs= ${ED_A}`,
        `${hashOf('indented.example', 4)} ${ED_B}`,
        '',
      ].join('\n'),
    );
    expect(out.value).toMatchObject({ hashedNames: 4, keptUnhashed: 4, alreadyHashed: 1 });
  });

  it('refuses a file with any invalid line, naming the first', () => {
    const out = hashKnownHostsFile(parseKnownHostsFile(`a ${ED_A}\nb ssh-ed25519 AAAA\nc,,d ${ED_A}\n`));
    expect(out.ok ? null : [out.error.code, out.error.line]).toEqual(['FILE_HAS_INVALID_LINES', 2]);
    expect(out.ok ? '' : out.error.message).toContain('2 invalid line(s)');
  });

  it('hashing twice changes nothing the second time', () => {
    const once = hashKnownHostsFile(parseKnownHostsFile(`a.example,b.example ${ED_A}\n`), countingSalts());
    if (!once.ok) throw new Error('hash failed');
    const twice = hashKnownHostsFile(parseKnownHostsFile(once.value.text), countingSalts());
    expect(twice.ok && twice.value).toEqual({
      text: once.value.text,
      hashedNames: 0,
      keptUnhashed: 0,
      alreadyHashed: 2,
    });
  });
});

describe('HostNameHmac', () => {
  it('is HMAC-SHA1 as node:crypto computes it, for any salt and name, salt after salt', () => {
    const salt = fc.uint8Array({ minLength: HASH_SALT_BYTES, maxLength: HASH_SALT_BYTES });
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.array(salt, { maxLength: 8 }),
        (name, salts) => {
          const hmac = new HostNameHmac(name);
          for (const s of salts) {
            const expected = createHmac('sha1', s).update(name, 'utf8').digest();
            expect(Buffer.from(hmac.of(s), 'latin1')).toEqual(expected);
            expect(hmac.matches({ salt: s, hash: new Uint8Array(expected) })).toBe(true);
            expected[0] = (expected[0] ?? 0) ^ 1;
            expect(hmac.matches({ salt: s, hash: new Uint8Array(expected) })).toBe(false);
          }
        },
      ),
    );
  });

  it('refuses a salt that is not 20 bytes (a bug in the caller, not input)', () => {
    expect(() => new HostNameHmac('a').of(new Uint8Array(randomBytes(19)))).toThrow();
  });
});

describe('randomSalts', () => {
  it('gives distinct 20-byte salts, each its own copy, across the blocks it draws', () => {
    const next = randomSalts();
    const salts = Array.from({ length: 2500 }, () => next());
    expect(salts.every((s) => s.length === HASH_SALT_BYTES && s.byteOffset === 0)).toBe(true);
    expect(new Set(salts.map((s) => Buffer.from(s).toString('hex'))).size).toBe(salts.length);
    salts[0]?.fill(0);
    expect(salts[1]?.some((b) => b !== 0)).toBe(true);
  });
});

describe('hashKnownHostsData with random salts', () => {
  it('gives every name its own salt, across the blocks it draws, and each name stays findable', () => {
    const names = Array.from({ length: 2500 }, (_, i) => `node${i}.grid.example`);
    const file = names.map((name, i) => `${name}${i % 2 === 0 ? ',Extra' + i : ''} ${ED_A}`).join('\n');
    const hashed = hashKnownHostsData(new Uint8Array(Buffer.from(`${file}\n`)));
    if (!hashed.ok) throw new Error(hashed.error.message);
    expect(hashed.value.hashedNames).toBe(names.length + names.length / 2);
    const text = Buffer.from(hashed.value.bytes).toString('utf8');
    const salts = text
      .trimEnd()
      .split('\n')
      .map((line) => line.split('|')[2]);
    expect(new Set(salts).size).toBe(salts.length);
    for (const name of [names[0], names[1023], names[1024], names[2499], 'extra2498'] as string[]) {
      const found = lookUpHostInFile(hashed.value.bytes, name);
      expect(found.matches.length, name).toBe(1);
    }
  });
});

describe('known_hosts lookup names', () => {
  it('forms the name ssh looks up', () => {
    expect(lookupName('Example.ORG')).toEqual({ ok: true, value: 'example.org' });
    expect(lookupName('example.org', 22)).toEqual({ ok: true, value: 'example.org' });
    expect(lookupName('example.org', 2222)).toEqual({ ok: true, value: '[example.org]:2222' });
    expect(lookupName('::1', 2022)).toEqual({ ok: true, value: '[::1]:2022' });
    for (const bad of ['', 'a b', '*.example', '[x]', 'a,b', 'é.example', 'a'.repeat(2000)])
      expect(lookupName(bad).ok, bad).toBe(false);
    expect(lookupName('a', 0).ok).toBe(false);
    expect(lookupName('a', 65536).ok).toBe(false);
  });

  it('reads HOST, HOST:PORT, [HOST]:PORT and bare IPv6', () => {
    const read = (t: string): unknown => {
      const r = parseLookupTarget(t);
      return r.ok ? r.value : r.error.code;
    };
    expect(read('Host.Example')).toEqual({ host: 'host.example', port: 22 });
    expect(read('host.example:2222')).toEqual({ host: 'host.example', port: 2222 });
    expect(read('[host.example]:2222')).toEqual({ host: 'host.example', port: 2222 });
    expect(read('[::1]:2022')).toEqual({ host: '::1', port: 2022 });
    expect(read('fe80::1')).toEqual({ host: 'fe80::1', port: 22 });
    expect(read('host:0')).toBe('BAD_PORT');
    expect(read('host:')).toBe('BAD_PORT');
    expect(read('host:22x')).toBe('BAD_PORT');
    expect(read('[host]')).toBe('BAD_LOOKUP_HOST');
  });
});

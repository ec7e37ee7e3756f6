/**
 * psm's known_hosts reading against the real OpenSSH ssh-keygen: `-F` (lookup, hashed entries,
 * [host]:port, markers), `-H` (hashing, both directions) and `-F -l` (which key fields it reads).
 * The verdicts of a real ssh client are in known-hosts-ssh.test.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import {
  findHost,
  hashKnownHostsData,
  hashKnownHostsFile,
  lookUpHostInFile,
  parseKnownHostsFile,
  type KnownHostsFileLine,
} from '../../src/authorized-keys/known-hosts/index.js';
import { loadKnownHostsTestKeys, testKey } from '../helpers/known-hosts-keys.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const keys = loadKnownHostsTestKeys();
const k = (name: string): string => testKey(keys, name).text;

/** Hand-written corpus: every feature of the format, all lines valid. */
function handCorpus(): string {
  return [
    '# psm conformance corpus',
    `alpha.example.org,beta.example.org,10.1.2.3 ${k('ED_A')} first`,
    `Gamma.Example.ORG ${k('ED_B')}`,
    `[alpha.example.org]:2222 ${k('ED_C')}`,
    `[10.1.2.3]:2200,[10.1.2.4]:2200 ${k('EC_A')}`,
    '',
    `::1 ${k('ED_A')}`,
    `[::1]:2022 ${k('ED_B')}`,
    `*.wild.test,!no.wild.test ${k('RSA_A')} wildcard`,
    `db?.grid ${k('ED_C')}`,
    `[*.grid]:22?? ${k('ED_A')}`,
    `@cert-authority *.example.org ${k('CA')} host CA`,
    `@revoked revoked.example.org ${k('ED_B')}`,
    `@revoked\talpha.example.org\t${k('ED_C').replace(' ', '\t')}`,
    `   \tindented.example ${k('ED_A')}   spaced   comment`,
    '|1|331UiTTKfKdc/rQDvXlFaWawHAE=|0Jp91NloyfgnrgH34Ma5rq6xgZs= ' + k('ED_A'),
    '|1|slCzLEwtDGsTP+xH7xTEsVzE9Gw=|fGWTfoIDUYpIWxm9KJxrZu0pd+M= ' + k('ED_B'),
    `UPPER.case.ORG,lower.case.org ${k('ED_C')}`,
    '  # indented comment',
    `x.grid,[x.grid]:2022 ${k('ED_B')}`,
  ].join('\n');
}

const HAND_LOOKUPS = [
  'alpha.example.org',
  'beta.example.org',
  '10.1.2.3',
  'gamma.example.org',
  '[alpha.example.org]:2222',
  '[10.1.2.3]:2200',
  '[10.1.2.4]:2200',
  '[10.1.2.5]:2200',
  '::1',
  '[::1]:2022',
  'x.wild.test',
  'no.wild.test',
  'wild.test',
  'db1.grid',
  'db12.grid',
  '[db1.grid]:2200',
  '[db1.grid]:22',
  'revoked.example.org',
  'example.com',
  '[example.com]:2222',
  'example.org',
  'indented.example',
  'upper.case.org',
  'lower.case.org',
  'x.grid',
  '[x.grid]:2022',
  'nothing.test',
];

/** A small deterministic PRNG (xorshift32), so the generated corpus is the same on every run. */
function prng(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
}

/** Generated corpus: short names over a tiny alphabet, so wildcards and negations collide often. */
function generatedCorpus(seed: number, lines: number): { text: string; lookups: string[] } {
  const next = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[next(items.length)] as T;
  const name = (): string =>
    Array.from({ length: 1 + next(4) }, () => pick(['a', 'b', 'c', '.', '1'])).join('');
  const withPort = (host: string): string =>
    next(4) === 0 ? `[${host}]:${pick(['2222', '2200', '22'])}` : host;
  const pattern = (): string => {
    const base = [...name()];
    // One wildcard at a random place in half of the patterns: enough collisions, not all hits.
    if (base.length >= 3 && next(2) === 0) base[next(base.length)] = pick(['*', '?']);
    let p = base.join('');
    if (next(5) === 0) p = `[${p}]:${pick(['2222', '22*', '2?00'])}`;
    return next(4) === 0 ? `!${p}` : p;
  };
  const keyNames = ['ED_A', 'ED_B', 'ED_C', 'EC_A'];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const hosts = Array.from({ length: 1 + next(3) }, () => (next(2) === 0 ? withPort(name()) : pattern()));
    const marker = pick(['', '', '', '@revoked ', '@cert-authority ']);
    out.push(`${marker}${hosts.join(',')} ${k(pick(keyNames))}`);
  }
  const lookups = new Set<string>();
  while (lookups.size < 150) lookups.add(withPort(name()));
  return { text: out.join('\n'), lookups: [...lookups] };
}

interface Found {
  readonly line: number;
  readonly marker: string;
}

async function sshKeygenFind(file: string, name: string): Promise<Found[]> {
  const outcome = await runProgram('ssh-keygen', ['-F', name, '-f', file], { timeoutMs: 30_000 });
  const stdout = outcome.stdout.toString('utf8');
  const found = [...stdout.matchAll(/^# Host (\S+) found: line (\d+) ?(CA|REVOKED)?$/gm)].map((m) => ({
    line: Number(m[2]),
    marker: m[3] ?? '',
  }));
  // ssh-keygen -F exits 0 when the host is found and 1 when it is not.
  expect(outcome.exitCode, `${name}: ${outcome.stderr.toString()}`).toBe(found.length > 0 ? 0 : 1);
  return found;
}

function psmFind(lines: readonly KnownHostsFileLine[], name: string): Found[] {
  return findHost(lines, name).map((m) => ({
    line: m.line,
    marker: m.marker === 'cert-authority' ? 'CA' : m.marker === 'revoked' ? 'REVOKED' : '',
  }));
}

/** The same lookup as psm known-hosts match makes it: from the file's bytes, keys read where they apply. */
function psmFindInFile(text: string, name: string): Found[] {
  const lookup = lookUpHostInFile(new Uint8Array(Buffer.from(text)), name);
  expect(lookup.firstInvalid).toBeNull();
  return lookup.matches.map((m) => ({
    line: m.line,
    marker: m.marker === 'cert-authority' ? 'CA' : m.marker === 'revoked' ? 'REVOKED' : '',
  }));
}

function parseValid(text: string): KnownHostsFileLine[] {
  const lines = parseKnownHostsFile(text);
  const invalid = lines.filter((l) => !l.result.ok);
  expect(invalid.map((l) => (l.result.ok ? null : [l.line, l.result.error.code, l.text]))).toEqual([]);
  return lines;
}

/** Every (name, key) that a plain, unmarked, wildcard-free line of `text` lists: what -H hashes. */
function hashableNames(lines: readonly KnownHostsFileLine[]): { name: string; key: string }[] {
  const out: { name: string; key: string }[] = [];
  for (const { result } of lines) {
    if (!result.ok || result.value.kind !== 'entry') continue;
    const e = result.value;
    if (e.marker !== null || e.hosts.kind !== 'patterns') continue;
    if (e.hosts.patterns.some((p) => p.negated || /[*?]/.test(p.pattern))) continue;
    for (const p of e.hosts.patterns) out.push({ name: p.pattern.toLowerCase(), key: e.key.base64 });
  }
  return out;
}

describe('known_hosts conformance with OpenSSH ssh-keygen', () => {
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    dir = await makeTempDir('kh-conf');
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('ssh-keygen -F and psm find the same lines (and markers) on the hand corpus', async () => {
    const file = join(dir.path, 'hand');
    const text = handCorpus();
    await writeFile(file, `${text}\n`);
    const lines = parseValid(text);
    for (const name of HAND_LOOKUPS) {
      const theirs = await sshKeygenFind(file, name);
      expect(psmFind(lines, name), name).toEqual(theirs);
      expect(psmFindInFile(text, name), name).toEqual(theirs);
    }
  }, 120_000);

  it('ssh-keygen -F and psm agree on a generated corpus of patterns, negations, ports and markers', async () => {
    const file = join(dir.path, 'generated');
    const { text, lookups } = generatedCorpus(0x5eed, 80);
    await writeFile(file, `${text}\n`);
    const lines = parseValid(text);
    let matched = 0;
    for (const name of lookups) {
      const ours = psmFind(lines, name);
      const theirs = await sshKeygenFind(file, name);
      expect(ours, name).toEqual(theirs);
      expect(psmFindInFile(text, name), name).toEqual(theirs);
      if (ours.length > 0) matched += 1;
    }
    // The corpus is only useful if many lookups hit something (and some miss).
    expect(matched).toBeGreaterThan(30);
    expect(matched).toBeLessThan(lookups.length);
  }, 240_000);

  it('psm finds every host in a file ssh-keygen -H hashed, and hashes it the same way', async () => {
    const file = join(dir.path, 'to-hash-by-openssh');
    const text = handCorpus();
    await writeFile(file, `${text}\n`);
    const outcome = await runProgram('ssh-keygen', ['-H', '-f', file], { timeoutMs: 30_000 });
    expect(outcome.exitCode, outcome.stderr.toString()).toBe(0);
    const theirs = await readFile(file, 'utf8');
    const theirLines = parseValid(theirs);
    const original = parseValid(text);
    const names = hashableNames(original);
    expect(names.length).toBeGreaterThan(10);
    for (const { name, key } of names) {
      const found = findHost(theirLines, name);
      expect(
        found.some((m) => m.hashed && m.key.base64 === key),
        name,
      ).toBe(true);
    }
    // Same output line for line, once the random salts and hashes are blanked out.
    const ours = hashKnownHostsFile(original);
    expect(ours.ok).toBe(true);
    if (!ours.ok) return;
    const blank = (t: string): string => t.replace(/\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+/g, '|1|SALT|HASH');
    expect(blank(ours.value.text)).toBe(blank(theirs));
    // psm known-hosts hash's own path, from the bytes.
    const fromBytes = hashKnownHostsData(new Uint8Array(Buffer.from(`${text}\n`)));
    expect(fromBytes.ok && blank(Buffer.from(fromBytes.value.bytes).toString('utf8'))).toBe(blank(theirs));
  }, 120_000);

  it('ssh-keygen -F finds every host in a file psm hashed, at the same lines psm finds', async () => {
    const file = join(dir.path, 'hashed-by-psm');
    const original = parseValid(handCorpus());
    const hashed = hashKnownHostsFile(original);
    expect(hashed.ok).toBe(true);
    if (!hashed.ok) return;
    await writeFile(file, hashed.value.text);
    const ourLines = parseValid(hashed.value.text);
    for (const { name } of hashableNames(original)) {
      const theirs = await sshKeygenFind(file, name);
      expect(theirs.length, name).toBeGreaterThan(0);
      expect(psmFind(ourLines, name), name).toEqual(theirs);
    }
  }, 120_000);

  it('both hash a line whose key data is not a key (carried verbatim), and both refuse an unknown key type', async () => {
    const file = join(dir.path, 'key-data');
    const text = `good.example ${k('ED_A')}\nodd.example ssh-ed25519 AAAA not-a-key\n`;
    await writeFile(file, text);
    const hashed = await runProgram('ssh-keygen', ['-H', '-f', file], { timeoutMs: 30_000 });
    expect(hashed.exitCode, hashed.stderr.toString()).toBe(0);
    const theirs = await readFile(file, 'utf8');
    const ours = hashKnownHostsData(new Uint8Array(Buffer.from(text)));
    const blank = (t: string): string => t.replace(/\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+/g, '|1|SALT|HASH');
    expect(ours.ok && blank(Buffer.from(ours.value.bytes).toString('utf8'))).toBe(blank(theirs));
    expect(blank(theirs)).toBe(`|1|SALT|HASH ${k('ED_A')}\n|1|SALT|HASH ssh-ed25519 AAAA not-a-key\n`);

    const unknownType = `good.example ${k('ED_A')}\nodd.example ssh-foo AAAA\n`;
    await writeFile(file, unknownType);
    const refused = await runProgram('ssh-keygen', ['-H', '-f', file], { timeoutMs: 30_000 });
    expect(refused.exitCode).toBe(1);
    expect(await readFile(file, 'utf8')).toBe(unknownType);
    const ourRefusal = hashKnownHostsData(new Uint8Array(Buffer.from(unknownType)));
    expect(ourRefusal.ok ? null : [ourRefusal.error.code, ourRefusal.error.line]).toEqual([
      'FILE_HAS_INVALID_LINES',
      2,
    ]);
  }, 60_000);

  it('both refuse to hash a file with an invalid line and leave it alone', async () => {
    const file = join(dir.path, 'invalid');
    const text = `good.example ${k('ED_A')}\n@bogus bad.example ${k('ED_B')}\n`;
    await writeFile(file, text);
    const outcome = await runProgram('ssh-keygen', ['-H', '-f', file], { timeoutMs: 30_000 });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr.toString()).toContain('not a valid known_hosts file');
    expect(await readFile(file, 'utf8')).toBe(text);
    const ours = hashKnownHostsFile(parseKnownHostsFile(text));
    expect(ours.ok ? null : [ours.error.code, ours.error.line]).toEqual(['FILE_HAS_INVALID_LINES', 2]);
  }, 60_000);
});

/**
 * Key-field validity, line by line: `ssh-keygen -F probe.example -l` parses the key of every
 * line whose host matches and lists only the lines it could read. Every line below must get the
 * same verdict from psm, except the few where psm is stricter on purpose (listed, and checked to
 * really be accepted by ssh-keygen, so the list stays honest).
 */
function keyFieldCorpus(): { lines: string[]; psmStricter: number[] } {
  const ed = testKey(keys, 'ED_A').text;
  const ec = testKey(keys, 'EC_A').text;
  const ecB64 = ec.split(' ')[1] ?? '';
  const edB64 = ed.split(' ')[1] ?? '';
  const lines = [
    `probe.example ${ed}`,
    `probe.example ${ed} with a comment`,
    `@revoked probe.example ${ed}`,
    `@cert-authority probe.example ${k('CA')}`,
    `probe.example\t${ed}`,
    `probe.example ${ed.replace(' ', '\t')}`,
    `   probe.example   ${ed}   `,
    `other.example,probe.example ${ec}`,
    `probe.example ${k('HK_CERT')}`,
    `probe.example ${k('RSA_A')}`,
    'probe.example ssh-ed25519',
    'probe.example ssh-ed25519 ',
    'probe.example ssh-ed25519 AAAA',
    `probe.example ssh-rsa ${edB64}`,
    `probe.example ecdsa-sha2-nistp384 ${ecB64}`,
    `probe.example ssh-foo ${edB64}`,
    `probe.example SSH-ED25519 ${edB64}`,
    'probe.example',
    'probe.example ',
    'probe.example #comment',
    '@revoked probe.example',
    `probe.example ${ed}=`,
    `probe.example ${ec.slice(0, -1)}`,
    `probe.example ${ec.slice(0, -2)}9=`,
    `probe.example ${ed}AAAA`,
    `probe.example ${ed.slice(0, -4)}`,
    `probe.example ssh-ed25519-cert-v01@openssh.com ${edB64}`,
    `probe.example ${ed} comment with \r carriage return`,
    `probe.example ${ed} comment with \u001b escape`,
  ];
  // 1-based lines psm refuses although ssh reads them: control characters in the comment.
  return { lines, psmStricter: [28, 29] };
}

describe('known_hosts key fields: psm and ssh-keygen -F -l read the same lines', () => {
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    dir = await makeTempDir('kh-keys');
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('agrees line by line on valid and invalid key fields', async () => {
    const { lines, psmStricter } = keyFieldCorpus();
    const file = join(dir.path, 'keyfields');
    await writeFile(file, `${lines.join('\n')}\n`);
    const outcome = await runProgram('ssh-keygen', ['-F', 'probe.example', '-l', '-f', file], {
      timeoutMs: 30_000,
    });
    const theirs = [...outcome.stdout.toString().matchAll(/^# Host probe\.example found: line (\d+)/gm)].map(
      (m) => Number(m[1]),
    );
    const parsed = parseKnownHostsFile(lines.join('\n'));
    const ours = parsed.filter((l) => l.result.ok && l.result.value.kind === 'entry').map((l) => l.line);
    expect(ours.length).toBeGreaterThan(5);
    expect(theirs.filter((n) => !psmStricter.includes(n))).toEqual(ours);
    for (const n of psmStricter) expect(theirs).toContain(n);
  }, 60_000);
});

/**
 * Runs the data-driven vectors in test/vectors/known-hosts/*.vec (format: README.md there). Each
 * file is a header of `expect:` lines, a `---` line, and a known_hosts body; `$NAME` stands for a
 * real key from keys.txt, the placeholder syntax of every vector file (test/helpers/vector-keys.ts).
 *   expect: invalid LINE CODE COLUMN        every invalid body line (all others must be valid)
 *   expect: find HOST[:PORT] -> 1,4 | none  body lines whose host field matches, in order
 *   expect: check HOST[:PORT] $KEY -> VERDICT [LINE]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  findHost,
  lookupName,
  parseKnownHostsFile,
  parseLookupTarget,
} from '../../src/authorized-keys/known-hosts/index.js';
import { KNOWN_HOSTS_VECTOR_DIR, loadKnownHostsTestKeys } from '../helpers/known-hosts-keys.js';
import { expandKeys } from '../helpers/vector-keys.js';

const DIR = KNOWN_HOSTS_VECTOR_DIR;
const loadTestKeys = loadKnownHostsTestKeys;

interface Vector {
  readonly file: string;
  readonly header: string[];
  readonly body: string;
}

function loadVectors(): Vector[] {
  const keys = loadTestKeys();
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.vec'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(DIR, file), 'utf8');
      const split = text.indexOf('\n---\n');
      if (split < 0) throw new Error(`${file}: no --- line`);
      const body = expandKeys(text.slice(split + 5), keys);
      const unknown = /\$[A-Za-z0-9_]+/.exec(body);
      if (unknown !== null) throw new Error(`${file}: unknown key ${unknown[0]}`);
      const header = text
        .slice(0, split)
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'));
      const malformed = header.find((l) => !/^expect: (invalid|find|check) /.test(l));
      if (malformed !== undefined) throw new Error(`${file}: not an expect: line: ${malformed}`);
      return { file, header, body };
    });
}

const keys = loadTestKeys();
const vectors = loadVectors();

describe('known_hosts vectors', () => {
  it('has vector files with expectations', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(4);
    for (const v of vectors) expect(v.header.length, v.file).toBeGreaterThan(0);
  });

  for (const vector of vectors) {
    describe(vector.file, () => {
      const lines = parseKnownHostsFile(vector.body);
      const invalid = vector.header.filter((h) => h.startsWith('expect: invalid '));

      it('marks exactly the listed lines invalid, with code and column', () => {
        const expected = invalid.map((h) => h.slice('expect: invalid '.length));
        const actual = lines
          .filter((l) => !l.result.ok)
          .map((l) => (l.result.ok ? '' : `${l.line} ${l.result.error.code} ${l.result.error.column ?? '-'}`));
        expect(actual).toEqual(expected);
      });

      for (const h of vector.header.filter((x) => x.startsWith('expect: find '))) {
        it(h, () => {
          const [target = '', want = ''] = h.slice('expect: find '.length).split(' -> ');
          const parsed = parseLookupTarget(target);
          expect(parsed.ok, target).toBe(true);
          if (!parsed.ok) return;
          const name = lookupName(parsed.value.host, parsed.value.port);
          expect(name.ok).toBe(true);
          if (!name.ok) return;
          const found = findHost(lines, name.value).map((m) => m.line);
          expect(found.length === 0 ? 'none' : found.join(',')).toBe(want);
        });
      }

      for (const h of vector.header.filter((x) => x.startsWith('expect: check '))) {
        it(h, () => {
          const [left = '', want = ''] = h.slice('expect: check '.length).split(' -> ');
          const [target = '', keyRef = ''] = left.split(' ');
          const keyName = keyRef.replace(/^\$/, '');
          const presented = keyRef.startsWith('$') ? keys.get(keyName) : undefined;
          expect(presented, keyName).toBeDefined();
          const parsed = parseLookupTarget(target);
          if (!parsed.ok || presented === undefined) throw new Error(`bad vector line: ${h}`);
          const name = lookupName(parsed.value.host, parsed.value.port);
          if (!name.ok) throw new Error(`bad vector line: ${h}`);
          const result = checkHostKey(findHost(lines, name.value), presented.key, { host: parsed.value.host });
          expect(result.line === null ? result.verdict : `${result.verdict} ${result.line}`).toBe(want);
        });
      }
    });
  }
});

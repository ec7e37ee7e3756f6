/**
 * Runs the data-driven vectors in test/vectors/known-hosts/*.vec. Each file is a header of
 * expectations, a `---` line, and a known_hosts body; `{NAME}` in the body stands for a real key
 * from keys.txt. Header lines:
 *   invalid: LINE CODE COLUMN        every invalid body line (all others must be valid)
 *   find: HOST[:PORT] -> 1,4 | none  body lines whose host field matches, in order
 *   check: HOST[:PORT] KEY -> VERDICT [LINE]
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
      const body = text.slice(split + 5).replace(/\{([A-Z0-9_]+)\}/g, (_, name: string) => {
        const key = keys.get(name);
        if (key === undefined) throw new Error(`${file}: unknown key {${name}}`);
        return key.text;
      });
      const header = text
        .slice(0, split)
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'));
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
      const invalid = vector.header.filter((h) => h.startsWith('invalid: '));

      it('marks exactly the listed lines invalid, with code and column', () => {
        const expected = invalid.map((h) => h.slice('invalid: '.length));
        const actual = lines
          .filter((l) => !l.result.ok)
          .map((l) => (l.result.ok ? '' : `${l.line} ${l.result.error.code} ${l.result.error.column ?? '-'}`));
        expect(actual).toEqual(expected);
      });

      for (const h of vector.header.filter((x) => x.startsWith('find: '))) {
        it(h, () => {
          const [target = '', want = ''] = h.slice('find: '.length).split(' -> ');
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

      for (const h of vector.header.filter((x) => x.startsWith('check: '))) {
        it(h, () => {
          const [left = '', want = ''] = h.slice('check: '.length).split(' -> ');
          const [target = '', keyName = ''] = left.split(' ');
          const presented = keys.get(keyName);
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

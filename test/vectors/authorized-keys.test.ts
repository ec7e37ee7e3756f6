import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAuthorizedKeysLine } from '../../src/authorized-keys/index.js';
import { expandKeys } from '../helpers/vector-keys.js';

const DIR = join(import.meta.dirname, 'authorized-keys');

interface VectorCase {
  file: string;
  name: string;
  line: string;
  expect: string;
  options?: unknown;
  key?: unknown;
  comment?: string | null;
  column?: number;
}

function loadKeys(): Map<string, { type: string; b64: string }> {
  const keys = new Map<string, { type: string; b64: string }>();
  for (const raw of readFileSync(join(DIR, 'keys.txt'), 'utf8').split('\n')) {
    if (raw.startsWith('#') || raw.trim() === '') continue;
    const [name, type, b64] = raw.split(' ');
    keys.set(name!, { type: type!, b64: b64! });
  }
  return keys;
}

function loadCases(): VectorCase[] {
  const keys = loadKeys();
  const cases: VectorCase[] = [];
  for (const file of readdirSync(DIR).filter((name) => name.endsWith('.vectors'))) {
    const blocks = readFileSync(join(DIR, file), 'utf8').split(/\n\s*\n/);
    for (const block of blocks) {
      const fields = new Map<string, string>();
      for (const raw of block.split('\n')) {
        if (raw.startsWith('#') || raw === '') continue;
        const colon = raw.indexOf(': ');
        if (colon === -1) throw new Error(`${file}: malformed vector line ${JSON.stringify(raw)}`);
        fields.set(raw.slice(0, colon), raw.slice(colon + 2));
      }
      if (fields.size === 0) continue;
      const line = fields.has('line-json') ? (JSON.parse(fields.get('line-json')!) as string) : fields.get('line');
      if (line === undefined || !fields.has('expect') || !fields.has('name'))
        throw new Error(`${file}: a case needs name, line and expect: ${block}`);
      cases.push({
        file,
        name: fields.get('name')!,
        line: expandKeys(line, keys),
        expect: fields.get('expect')!,
        ...(fields.has('options') ? { options: JSON.parse(fields.get('options')!) } : {}),
        ...(fields.has('key') ? { key: JSON.parse(fields.get('key')!) } : {}),
        ...(fields.has('comment') ? { comment: JSON.parse(fields.get('comment')!) as string | null } : {}),
        ...(fields.has('column') ? { column: Number(fields.get('column')) } : {}),
      });
    }
  }
  return cases;
}

const cases = loadCases();

describe('authorized_keys vectors', () => {
  it('has a meaningful number of cases', () => {
    expect(cases.length).toBeGreaterThan(80);
  });

  it.each(cases.map((c) => [`${c.file}: ${c.name}`, c] as const))('%s', (_label, c) => {
    const result = parseAuthorizedKeysLine(c.line);
    if (c.expect.startsWith('error ')) {
      expect(result.ok ? 'ok' : result.error.code).toBe(c.expect.slice('error '.length));
      if (c.column !== undefined && !result.ok) expect(result.error.column).toBe(c.column);
      return;
    }
    if (!result.ok) throw new Error(`expected ${c.expect}, got ${result.error.code}: ${result.error.message}`);
    expect(result.value.kind).toBe(c.expect);
    if (result.value.kind !== 'key') return;
    if (c.options !== undefined) expect(result.value.options).toMatchObject(c.options as object);
    if (c.key !== undefined) expect(result.value.key).toMatchObject(c.key as object);
    if (c.comment !== undefined) expect(result.value.comment).toBe(c.comment);
  });
});

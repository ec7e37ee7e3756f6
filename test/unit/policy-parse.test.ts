/**
 * The policy format against its vectors (test/vectors/policy/{valid,invalid}/*.yaml). Each file's
 * first line says what must happen: "# expect: ok", or "# expect: CODE LINE:COLUMN" for the first
 * error, which must carry the file name too. Invalid files never yield a policy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_POLICY_BYTES, parsePolicy } from '../../src/psm/policy/index.js';
import { POLICY_VECTORS } from '../helpers/policy-fixtures.js';

function vectors(kind: 'valid' | 'invalid'): { name: string; text: string; expect: string }[] {
  const dir = join(POLICY_VECTORS, kind);
  return readdirSync(dir)
    .filter((n) => n.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const text = readFileSync(join(dir, name), 'utf8');
      const header = /^# expect: (.+)\n/.exec(text);
      if (!header?.[1]) throw new Error(`${name} has no "# expect:" line`);
      return { name, text, expect: header[1] };
    });
}

describe('policy vectors', () => {
  for (const v of vectors('valid')) {
    it(`accepts ${v.name}`, () => {
      expect(v.expect).toBe('ok');
      const parsed = parsePolicy(v.text, v.name);
      expect(parsed.ok ? 'ok' : parsed.error).toBe('ok');
    });
  }
  for (const v of vectors('invalid')) {
    it(`refuses ${v.name} with ${v.expect}`, () => {
      const parsed = parsePolicy(Buffer.from(v.text), v.name);
      if (parsed.ok) throw new Error(`${v.name} was accepted`);
      const first = parsed.error[0];
      expect(`${first?.code} ${first?.line}:${first?.column}`).toBe(v.expect);
      for (const e of parsed.error) {
        expect(e.file).toBe(v.name);
        expect(e.message.length).toBeGreaterThan(0);
      }
    });
  }
});

describe('policy file limits', () => {
  it('refuses files over the size limit before parsing them', () => {
    const parsed = parsePolicy(`# ${'x'.repeat(MAX_POLICY_BYTES)}\n`, 'big.yaml');
    expect(parsed.ok ? 'ok' : parsed.error[0]?.code).toBe('POLICY_TOO_LARGE');
  });

  it('refuses invalid UTF-8', () => {
    const parsed = parsePolicy(
      new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0xfe]),
      'bytes.yaml',
    );
    expect(parsed.ok ? 'ok' : parsed.error[0]?.code).toBe('POLICY_NOT_UTF8');
  });

  it('reports every error of a file, not only the first', () => {
    const text = readFileSync(join(POLICY_VECTORS, 'valid', 'minimal-main-node.yaml'), 'utf8')
      .replace('role: main-node', 'role: nobody')
      .replace('expiry: 7d', 'expiry: soon');
    const parsed = parsePolicy(text, 'two.yaml');
    expect(parsed.ok ? [] : parsed.error.map((e) => `${e.code}@${e.line}`)).toStrictEqual([
      'POLICY_BAD_VALUE@7',
      'POLICY_BAD_VALUE@17',
    ]);
  });
});

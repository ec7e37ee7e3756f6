import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/vault/config.js';

/**
 * virtual.conf schema vectors: each file in test/vectors/vault/ starts with
 * `# expect: ok` or `# expect: CODE [line N]`; the line is where the error must point.
 */
const DIR = join(import.meta.dirname, 'vault');
const files = readdirSync(DIR).filter((name) => name.endsWith('.toml'));

function expectation(text: string): { code: string; line: number | undefined } {
  const match = /^# expect: (\S+)(?: line (\d+))?$/m.exec(text);
  if (match?.[1] === undefined) throw new Error('vector without an expect: header');
  return { code: match[1], line: match[2] === undefined ? undefined : Number(match[2]) };
}

describe('virtual.conf schema vectors', () => {
  it('has vectors for valid and invalid files', () => {
    expect(files.filter((f) => f.startsWith('ok-')).length).toBeGreaterThanOrEqual(3);
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const name of files)
    it(name, () => {
      const file = join(DIR, name);
      const text = readFileSync(file, 'utf8');
      const want = expectation(text);
      const result = parseConfigText(text, file, '/srv/popc');
      if (want.code === 'ok') {
        expect(result.ok ? 'ok' : `${result.error.code} line ${result.error.line}: ${result.error.message}`).toBe('ok');
        return;
      }
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe(want.code);
      expect(result.error.file).toBe(file);
      if (want.line !== undefined) expect(result.error.line).toBe(want.line);
      expect(result.error.message).not.toMatch(/psm-sealed:v\d:[0-9a-f]{16}:[A-Za-z0-9+/]{8}/);
    });
});

/** psm keys inspect's JSON lines: the shortcut for lines without options is JSON.stringify's output. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAuthorizedKeysFile } from '../../src/authorized-keys/index.js';
import { authorizedKeysJson, authorizedKeysJsonLine } from '../../src/cli/keys-report.js';

const keys = readFileSync('test/vectors/authorized-keys/keys.txt', 'utf8')
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => line.split(' ').slice(1, 3).join(' '));

describe('authorizedKeysJsonLine', () => {
  it('is JSON.stringify(authorizedKeysJson(row)) for every kind of line', () => {
    const lines = ['', '# comment', 'not a key', 'restrict,pty bogus'];
    for (const key of keys)
      lines.push(
        key,
        `${key} user@host "quoted" \\ back`,
        `restrict ${key} c`,
        `command="echo \\"hi\\"",no-pty ${key}`,
        `bogus-option ${key}`,
      );
    const rows = parseAuthorizedKeysFile(lines.join('\n'));
    expect(rows.filter((row) => row.result.ok && row.result.value.kind === 'key').length).toBeGreaterThan(
      keys.length * 3,
    );
    for (const row of rows) expect(authorizedKeysJsonLine(row)).toBe(JSON.stringify(authorizedKeysJson(row)));
  });
});

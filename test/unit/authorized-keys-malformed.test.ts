/**
 * Malformed input of every kind gets a coded error for its own line and never a throw or a hang:
 * binary data, 1 MiB lines, invalid UTF-8, truncated quotes, NULs, option floods.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_LINE_LENGTH,
  parseAuthorizedKeysFile,
  parseAuthorizedKeysLine,
  parseKeyOptions,
} from '../../src/authorized-keys/index.js';
import { seededRandom } from '../conformance/authorized-keys-corpus.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKXMQ7uLz/4KK698PkY9sWAo3Q7DEq4+uLi9HsCoumDN';
const MiB = 1024 * 1024;

function codeOf(line: string): string {
  const result = parseAuthorizedKeysLine(line);
  return result.ok ? result.value.kind : result.error.code;
}

describe('authorized_keys: malformed input', () => {
  it('gives every line of 1 MiB of random bytes a verdict, with line numbers on errors', () => {
    const random = seededRandom(42);
    const bytes = new Uint8Array(MiB);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
    const rows = parseAuthorizedKeysFile(bytes);
    const newlines = bytes.filter((b) => b === 10).length;
    expect(rows.length).toBeGreaterThanOrEqual(newlines);
    for (const row of rows) {
      if (!row.result.ok) {
        expect(row.result.error.code).toMatch(/^[A-Z_0-9]+$/);
        expect(row.result.error.line).toBe(row.line);
      }
    }
    expect(rows.some((row) => !row.result.ok && row.result.error.code === 'INVALID_UTF8')).toBe(true);
  });

  it('refuses 1 MiB lines with LINE_TOO_LONG, whatever they hold', () => {
    for (const line of [
      'a'.repeat(MiB),
      `ssh-ed25519 ${'A'.repeat(MiB)}`,
      `command="${'x'.repeat(MiB)}" ${KEY}`,
      '"'.repeat(MiB),
      `${'restrict,'.repeat(MiB / 9)} ${KEY}`,
    ])
      expect(codeOf(line)).toBe('LINE_TOO_LONG');
    const bytes = Buffer.from(`${KEY}\n${'\u00e9'.repeat(MiB)}\n${KEY}\n`);
    const rows = parseAuthorizedKeysFile(bytes);
    expect(rows.map((row) => (row.result.ok ? row.result.value.kind : row.result.error.code))).toEqual([
      'key',
      'LINE_TOO_LONG',
      'key',
    ]);
  });

  it('handles a line just under the limit', () => {
    const line = `command="${'x'.repeat(MAX_LINE_LENGTH - KEY.length - 20)}" ${KEY}`;
    expect(line.length).toBeLessThanOrEqual(MAX_LINE_LENGTH);
    expect(codeOf(line)).toBe('key');
  });

  it('marks only the lines with invalid UTF-8, at the bad byte', () => {
    const good = Buffer.from(`${KEY} ok\n`);
    const cases: Array<[number[], number]> = [
      [[0xff], 1],
      [[0xc0, 0x80], 1],
      [[0xed, 0xa0, 0x80], 1],
      [[0xf4, 0x90, 0x80, 0x80], 1],
      [[0x41, 0xe2, 0x82], 2],
    ];
    for (const [bad, column] of cases) {
      const rows = parseAuthorizedKeysFile(Buffer.concat([good, Buffer.from(bad), Buffer.from('\n'), good]));
      expect(rows.map((row) => row.result.ok)).toEqual([true, false, true]);
      const error = rows[1]!.result.ok ? undefined : rows[1]!.result.error;
      expect(error).toMatchObject({ code: 'INVALID_UTF8', line: 2, column });
    }
  });

  it('keeps a byte-order mark, so the first line is refused as sshd refuses it', () => {
    const rows = parseAuthorizedKeysFile(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${KEY}\n`)]),
    );
    expect(rows[0]!.result.ok).toBe(false);
  });

  it('gives truncated quotes a coded error', () => {
    expect(codeOf(`command="abc ${KEY}`)).toBe('UNTERMINATED_QUOTE');
    expect(codeOf(`" ${KEY}`)).toBe('UNTERMINATED_QUOTE');
    expect(codeOf(`command="\\" ${KEY}`)).toBe('UNTERMINATED_QUOTE');
    expect(codeOf('command="')).toBe('UNTERMINATED_QUOTE');
    const alone = parseKeyOptions('command="abc');
    expect(alone.ok ? 'ok' : alone.error.code).toBe('MISSING_END_QUOTE');
  });

  it('refuses NUL, CR and LF inside a line', () => {
    expect(codeOf(`${KEY} a\0b`)).toBe('NUL_IN_LINE');
    expect(codeOf(`restrict\0 ${KEY}`)).toBe('NUL_IN_LINE');
    expect(codeOf(`${KEY} a\rb`)).toBe('LINE_BREAK_IN_LINE');
    expect(codeOf(`${KEY}\n${KEY}`)).toBe('LINE_BREAK_IN_LINE');
  });

  it('applies sshd limits on option floods (it checks "more than N" before adding)', () => {
    const permits = (n: number): string =>
      Array.from({ length: n }, (_, i) => `permitopen="h:${(i % 65535) + 1}"`).join(',');
    expect(codeOf(`${permits(4097)} ${KEY}`)).toBe('key');
    expect(codeOf(`${permits(4098)} ${KEY}`)).toBe('TOO_MANY_PERMITS');
    const env = (n: number): string => Array.from({ length: n }, (_, i) => `environment="V${i}=1"`).join(',');
    expect(codeOf(`${env(1025)} ${KEY}`)).toBe('key');
    expect(codeOf(`${env(1026)} ${KEY}`)).toBe('TOO_MANY_ENVIRONMENT');
  });

  it('never throws on arbitrary text, and every error is coded with a column inside the line', () => {
    const alphabet = fc.constantFrom(
      ...'ab,="\\ \t#-\0\r\u00e9\u2028'.split(''),
      'restrict',
      'command=',
      KEY,
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.array(alphabet).map((parts) => parts.join('')),
        ),
        (line) => {
          const result = parseAuthorizedKeysLine(line);
          if (!result.ok) {
            expect(result.error.code).toMatch(/^[A-Z_0-9]+$/);
            if (result.error.column !== undefined) expect(result.error.column).toBeGreaterThanOrEqual(1);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

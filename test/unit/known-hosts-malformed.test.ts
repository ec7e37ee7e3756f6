/** Malformed input of every kind gets a coded error for its own line, never a throw or a hang. */
import { describe, expect, it } from 'vitest';
import {
  findHost,
  MAX_HOST_PATTERNS,
  MAX_KNOWN_HOSTS_LINE_BYTES,
  parseKnownHostsFile,
  type KnownHostsFileLine,
} from '../../src/authorized-keys/known-hosts/index.js';
import { loadKnownHostsTestKeys, testKey } from '../helpers/known-hosts-keys.js';

const keys = loadKnownHostsTestKeys();
const ED_A = testKey(keys, 'ED_A').text;
const good = `good.example ${ED_A}`;

function outcome(lines: readonly KnownHostsFileLine[]): string[] {
  return lines.map((l) =>
    l.result.ok ? `${l.line} ${l.result.value.kind}` : `${l.line} ${l.result.error.code}`,
  );
}

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('known_hosts malformed input', () => {
  it('empty input, a lone newline and a last line without newline', () => {
    expect(parseKnownHostsFile('')).toEqual([]);
    expect(outcome(parseKnownHostsFile('\n'))).toEqual(['1 blank']);
    expect(outcome(parseKnownHostsFile(`# c\n${good}`))).toEqual(['1 comment', '2 entry']);
    expect(outcome(parseKnownHostsFile(bytes(`# c\n${good}`)))).toEqual(['1 comment', '2 entry']);
  });

  it('a 1 MiB line is refused as too long and the lines around it still parse', () => {
    const long = 'a'.repeat(1024 * 1024);
    const data = bytes(`${good}\n${long} ${ED_A}\n${good}\n`);
    expect(outcome(parseKnownHostsFile(data))).toEqual(['1 entry', '2 LINE_TOO_LONG', '3 entry']);
    expect(outcome(parseKnownHostsFile(`${good}\n${long}\n${good}`))).toEqual([
      '1 entry',
      '2 LINE_TOO_LONG',
      '3 entry',
    ]);
  });

  it('a line of exactly the limit is read (and judged on its content)', () => {
    const filler = MAX_KNOWN_HOSTS_LINE_BYTES - good.length - 2;
    const line = `${good} #${'x'.repeat(filler)}`;
    expect(Buffer.byteLength(line)).toBe(MAX_KNOWN_HOSTS_LINE_BYTES);
    expect(outcome(parseKnownHostsFile(line))).toEqual(['1 entry']);
    expect(outcome(parseKnownHostsFile(`${line}x`))).toEqual(['1 LINE_TOO_LONG']);
  });

  it('invalid UTF-8 (bad continuation, overlong, surrogate, truncated) is refused per line', () => {
    const data = bytes(
      `${good}\n`,
      '# bad continuation ',
      [0xc3, 0x28],
      '\n',
      `${good} overlong `,
      [0xc0, 0xaf],
      '\n',
      'host',
      [0xed, 0xa0, 0x80],
      ` ${ED_A}\n`,
      `${good} truncated `,
      [0xe2, 0x82],
    );
    expect(outcome(parseKnownHostsFile(data))).toEqual([
      '1 entry',
      '2 INVALID_UTF8',
      '3 INVALID_UTF8',
      '4 INVALID_UTF8',
      '5 INVALID_UTF8',
    ]);
    expect(outcome(parseKnownHostsFile(`${good} \uD800 lone`))).toEqual(['1 INVALID_UTF8']);
  });

  it('binary garbage gives coded errors, never a throw', () => {
    const data = new Uint8Array(4096);
    for (let i = 0; i < data.length; i++) data[i] = (i * 167 + 13) % 256;
    const lines = parseKnownHostsFile(data);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines)
      expect(l.result.ok ? l.result.value.kind : l.result.error.code).toMatch(
        /^[A-Z_0-9]+$|^(blank|comment)$/,
      );
    expect(lines.some((l) => !l.result.ok)).toBe(true);
  });

  it('NUL, CR (Windows line endings) and escape characters are refused with their column', () => {
    const lines = parseKnownHostsFile(`${good}\r\nho\u0000st ${ED_A}\n# comment \u001b[2J\n`);
    expect(lines.map((l) => (l.result.ok ? null : [l.result.error.code, l.result.error.column]))).toEqual([
      ['CONTROL_CHARACTER', good.length + 1],
      ['CONTROL_CHARACTER', 3],
      ['CONTROL_CHARACTER', 11],
    ]);
    const first = lines[0]?.result;
    expect(first !== undefined && !first.ok && first.error.message).toContain('Windows line ending');
  });

  it('truncated lines: marker only, host only, key type only, cut base64', () => {
    const text = [
      '@revoked',
      '@revoked ',
      'host',
      'host ',
      'host ssh-ed25519',
      `host ${ED_A.slice(0, 40)}`,
      `host ${ED_A.slice(0, -1)}`,
    ].join('\n');
    expect(outcome(parseKnownHostsFile(text))).toEqual([
      '1 BAD_MARKER',
      '2 MISSING_KEY',
      '3 MISSING_KEY',
      '4 MISSING_KEY',
      '5 BAD_KEY',
      '6 BAD_KEY',
      '7 BAD_KEY',
    ]);
  });

  it('too many host patterns on one line', () => {
    const hosts = Array.from({ length: MAX_HOST_PATTERNS + 1 }, (_, i) => `h${i}`).join(',');
    expect(outcome(parseKnownHostsFile(`${hosts} ${ED_A}`))).toEqual(['1 TOO_MANY_HOST_PATTERNS']);
    const fewer = Array.from({ length: MAX_HOST_PATTERNS }, (_, i) => `h${i}`).join(',');
    expect(outcome(parseKnownHostsFile(`${fewer} ${ED_A}`))).toEqual(['1 entry']);
  });

  it('a byte-order mark is not silently dropped (it would be part of the host for ssh)', () => {
    expect(outcome(parseKnownHostsFile(bytes([0xef, 0xbb, 0xbf], good)))).toEqual(['1 BAD_HOST_PATTERN']);
  });

  it('a pathological wildcard pattern is matched without exponential backtracking', () => {
    const pattern = `${'*a'.repeat(40)}*b`;
    const lines = parseKnownHostsFile(`${pattern} ${ED_A}\n*${'?'.repeat(500)}b ${ED_A}`);
    expect(findHost(lines, 'a'.repeat(1000))).toEqual([]);
    expect(findHost(lines, `${'a'.repeat(999)}b`).map((m) => m.line)).toEqual([1, 2]);
  });
});

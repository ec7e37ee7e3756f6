/**
 * psm keys inspect's JSON lines: the writer that puts each line into the output in pieces writes
 * exactly JSON.stringify of the line's schema object.
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseAuthorizedKeysFile, type ParsedLine } from '../../src/authorized-keys/index.js';
import { ChunkedWriter } from '../../src/cli/chunked-output.js';
import { authorizedKeysJson, writeAuthorizedKeysJson } from '../../src/cli/keys-json.js';
import { AUTHORIZED_KEYS_REPORT, describeOptions } from '../../src/cli/keys-report.js';
import { describeError, lineColumn } from '../../src/cli/line-report.js';
import { escapeLine } from '../../src/common/terminal-text.js';

const keys = readFileSync('test/vectors/authorized-keys/keys.txt', 'utf8')
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => line.split(' ').slice(1, 3).join(' '));

async function written(
  rows: readonly ParsedLine[],
  write: (row: ParsedLine, out: ChunkedWriter) => void = writeAuthorizedKeysJson,
): Promise<string> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const out = new ChunkedWriter({ stdout, stderr: new PassThrough(), stdin: new PassThrough() });
  for (const row of rows) write(row, out);
  await out.end();
  return Buffer.concat(chunks).toString('utf8');
}

function mixedRows(): ParsedLine[] {
  const lines = ['', '# comment', 'not a key', 'restrict,pty bogus', '  \t# indented'];
  for (const key of keys)
    lines.push(
      key,
      `${key} user@host "quoted" \\ back`,
      `${key} non-ASCII: \u00fcn\u00ef \u{1f600} \u202e \u0001`,
      `restrict ${key} c`,
      `command="echo \\"hi\\"",no-pty ${key}`,
      `bogus-option ${key}`,
      `restrict,port-forwarding,no-touch-required,verify-required,cert-authority,principals="a,b" ${key}`,
      `from="10.0.0.0/8,!10.1.*",environment="A=1",environment="B=\u00e9\\"",tunnel="42" ${key} x`,
      `permitopen="h:1",permitopen="[::1]:*",permitlisten="8080",expiry-time="20991231",tunnel="any" ${key}`,
      `no-port-forwarding,no-agent-forwarding,no-x11-forwarding,no-user-rc ${key}`,
      // Longer than a chunk at three bytes per character: written from the object.
      `${key} ${'long comment '.repeat(2000)}`,
      `command="${'x'.repeat(30_000)}" ${key}`,
    );
  return parseAuthorizedKeysFile(lines.join('\n'));
}

/** The table rows as strings, each escaped whole: what inspect printed before it wrote in pieces. */
function tableRowsAsStrings(row: ParsedLine): string {
  const number = lineColumn(row.line);
  if (!row.result.ok) return `${escapeLine(`${number} invalid  ${describeError(row.result.error)}`)}\n`;
  const entry = row.result.value;
  if (entry.kind !== 'key') return '';
  const { key } = entry;
  const comment = entry.comment === null ? '' : `  comment: ${entry.comment}`;
  return [
    `${number} key      ${key.type.padEnd(37)} ${String(key.bits).padEnd(5)} ${key.fingerprint}`,
    `                 options: ${describeOptions(entry.options)}${comment}`,
  ]
    .map((text) => `${escapeLine(text)}\n`)
    .join('');
}

describe('writeAuthorizedKeysJson', () => {
  it('writes JSON.stringify(authorizedKeysJson(row)) and a line feed for every kind of line', async () => {
    const rows = mixedRows();
    expect(rows.filter((row) => row.result.ok && row.result.value.kind === 'key').length).toBeGreaterThan(
      keys.length * 10,
    );
    const expected = rows.map((row) => `${JSON.stringify(authorizedKeysJson(row))}\n`).join('');
    expect(await written(rows)).toBe(expected);
    // One line at a time too: every piece fits, or the line goes whole through the fallback.
    for (const row of rows) expect(await written([row])).toBe(`${JSON.stringify(authorizedKeysJson(row))}\n`);
  });

  it('writes line numbers of any length as JSON does', async () => {
    const [row] = parseAuthorizedKeysFile(keys[0]!);
    for (const line of [1, 9, 10, 99, 100, 65_535, 1_000_000, 123_456_789]) {
      const numbered = { ...row!, line };
      expect(await written([numbered])).toBe(`${JSON.stringify(authorizedKeysJson(numbered))}\n`);
    }
  });
});

describe('the authorized_keys table', () => {
  it('writes the rows of each line as strings, escaped, for every kind of line', async () => {
    const rows = mixedRows();
    // Type names longer than the TYPE column (sk certificates) and wide line numbers.
    const [plain] = parseAuthorizedKeysFile(`${keys[0]!} c\u202e`);
    if (!plain?.result.ok || plain.result.value.kind !== 'key') throw new Error('bad fixture');
    const entry = plain.result.value;
    for (const type of ['sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 'x'.repeat(37), 'x'.repeat(36)])
      for (const line of [7, 12_345, 123_456_789])
        rows.push({
          line,
          result: {
            ok: true,
            value: {
              ...entry,
              key: { ...entry.key, type, fingerprint: entry.key.fingerprint } as typeof entry.key,
            },
          },
        });
    const tableRows = AUTHORIZED_KEYS_REPORT.tableRows.bind(AUTHORIZED_KEYS_REPORT);
    expect(await written(rows, tableRows)).toBe(rows.map(tableRowsAsStrings).join(''));
    for (const row of rows) expect(await written([row], tableRows)).toBe(tableRowsAsStrings(row));
  });
});

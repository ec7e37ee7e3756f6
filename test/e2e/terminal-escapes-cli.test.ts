/**
 * Issue 9, defect 3: text that came from a file or a user is shown escaped in human output
 * (the keys inspect table, policy lint's file names, error messages), exact in --json.
 */
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPsmInProcess } from '../helpers/run-psm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const ED = readFileSync('test/vectors/authorized-keys/keys.txt', 'utf8')
  .split('\n')
  .find((line) => line.startsWith('ed '))!
  .split(' ')
  .slice(1, 3)
  .join(' ');

// What the red-team used: cursor up + erase line, then a fake clean row; plus an 8-bit CSI and bidi.
const FAKE_ROW = '\x1b[1A\x1b[2K2     key      ssh-ed25519 256 SHA256:fake';
const HOSTILE = `x${FAKE_ROW}\u009b2J\u202eevil\u2066`;
/** Anything a terminal acts on: C0 (but \n and \t), DEL, C1, bidi and other format characters. */
// eslint-disable-next-line no-control-regex -- the point is to find raw control characters
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069]/u;

describe('escaped output', () => {
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    dir = await makeTempDir('escapes');
  });
  afterAll(() => dir.remove());

  it('keys inspect: a hostile comment and option value are escaped in the table, exact in --json', async () => {
    const file = join(dir.path, 'ak');
    await writeFile(file, `pty,command="/bin/sh\u202e" ${ED} ${HOSTILE}\n`);
    const table = await runPsmInProcess(['keys', 'inspect', file]);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toMatch(RAW_CONTROL);
    expect(table.stdout).toContain('x\\x1b[1A\\x1b[2K2     key');
    expect(table.stdout).toContain('\\u009b2J\\u202eevil\\u2066');
    expect(table.stdout).toContain('command="/bin/sh\\u202e"');
    const json = await runPsmInProcess(['keys', 'inspect', file, '--json']);
    const row = JSON.parse(json.stdout) as { comment: string; options: { command: string } };
    expect(row.comment).toBe(HOSTILE);
    expect(row.options.command).toBe('/bin/sh\u202e');
  });

  it('policy lint: a file name with control characters is escaped', async () => {
    const policies = join(dir.path, 'policies');
    await mkdir(policies);
    const name = `main\x1b[2K\u202e.yaml`;
    await copyFile('policies/main-node.yaml', join(policies, name));
    await writeFile(join(policies, `bad\x1b[31m.yaml`), 'not: [a policy');
    const run = await runPsmInProcess(['policy', 'lint', policies]);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(RAW_CONTROL);
    expect(`${run.stdout}${run.stderr}`).toContain('bad\\x1b[31m.yaml');
  });

  it('error messages quote user-given names escaped', async () => {
    const run = await runPsmInProcess(['keys', 'inspect', join(dir.path, 'missing\x1b[2J\u202e')]);
    expect(run.code).toBe(3);
    expect(run.stderr).not.toMatch(RAW_CONTROL);
    expect(run.stderr).toContain('missing\\x1b[2J\\u202e');
    const unknown = await runPsmInProcess(['keys', 'inspect', '--\x1b[2Jx']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).not.toMatch(RAW_CONTROL);
  });
});

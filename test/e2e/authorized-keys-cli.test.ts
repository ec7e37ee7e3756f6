/**
 * `psm keys inspect` end to end: the in-process CLI entry point on real files, plus one run of
 * the built bin/psm.js (the real process, with stdin) when dist/ exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { runPsmInProcess, type PsmRun } from '../helpers/run-psm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const KEYS = new Map(
  readFileSync('test/vectors/authorized-keys/keys.txt', 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [name, type, b64] = line.split(' ');
      return [name!, `${type} ${b64}`] as const;
    }),
);

function psm(args: string[], stdinText?: string): Promise<PsmRun> {
  return runPsmInProcess(args, stdinText);
}

describe('psm keys inspect', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const file = (name: string): string => join(dir.path, name);
  const content = [
    '# admin',
    `${KEYS.get('ed')!} admin@host`,
    `restrict,pty,command="rsync --server" ${KEYS.get('ec256')!}`,
    `frobnicate ${KEYS.get('rsa2048')!}`,
    '',
  ].join('\n');

  beforeAll(async () => {
    dir = await makeTempDir('ak-cli');
    await writeFile(file('ak'), `${content}\n`);
    await writeFile(file('ok'), `${KEYS.get('ed')!}\n# fine\n`);
  });
  afterEach(() => {
    process.exitCode = undefined;
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('prints one JSON object per line in the documented schema and exits 1 on an invalid line', async () => {
    const result = await psm(['keys', 'inspect', file('ak'), '--json']);
    expect(result.code).toBe(1);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toHaveLength(5);
    expect(rows.map((row) => row.kind)).toEqual(['comment', 'key', 'key', 'invalid', 'blank']);
    for (const row of rows)
      expect(Object.keys(row)).toEqual(['line', 'kind', 'error', 'options', 'key', 'comment']);
    expect(rows[1]).toMatchObject({
      line: 2,
      error: null,
      key: {
        type: 'ssh-ed25519',
        bits: 256,
        fingerprint: 'SHA256:7OGXcD27Ppg6G8aeQUQDOjY6eDyoCIcBbMNjDfnCoOc',
      },
      comment: 'admin@host',
    });
    expect(rows[2]!.options).toEqual({
      restrict: true,
      permit: {
        portForwarding: false,
        agentForwarding: false,
        x11Forwarding: false,
        pty: true,
        userRc: false,
      },
      certAuthority: false,
      noTouchRequired: false,
      verifyRequired: false,
      command: 'rsync --server',
      principals: null,
      from: null,
      environment: [],
      permitOpen: [],
      permitListen: [],
      expiryTime: [],
      tunnel: null,
    });
    expect(rows[3]).toEqual({
      line: 4,
      kind: 'invalid',
      error: { code: 'UNKNOWN_OPTION', message: 'unknown key option', column: 1 },
      options: null,
      key: null,
      comment: null,
    });
  });

  it('prints a readable table and exits 0 when every line is valid', async () => {
    const result = await psm(['keys', 'inspect', file('ok')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('SHA256:7OGXcD27Ppg6G8aeQUQDOjY6eDyoCIcBbMNjDfnCoOc');
    expect(result.stdout).toContain('2 lines: 1 keys, 0 invalid');
    const table = await psm(['keys', 'inspect', file('ak')]);
    expect(table.stdout).toContain('UNKNOWN_OPTION');
    expect(table.stdout).toContain('restrict,+pty,command="rsync --server"');
  });

  it('reads standard input with - and by default', async () => {
    const dash = await psm(['keys', 'inspect', '-', '--json'], `${content}\n`);
    expect(dash.code).toBe(1);
    expect(dash.stdout.trim().split('\n')).toHaveLength(5);
    const implicit = await psm(['keys', 'inspect', '--json'], `${KEYS.get('ed')!}\n`);
    expect(implicit.code).toBe(0);
  });

  it('exits 2 on usage errors and 3 on unreadable files', async () => {
    expect((await psm(['keys', 'inspect', '--format', 'pem', file('ok')])).code).toBe(2);
    expect((await psm(['keys', 'inspect', '--bogus'])).code).toBe(2);
    const missing = await psm(['keys', 'inspect', file('missing')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('FILE_UNREADABLE');
    expect((await psm(['keys', 'inspect', dir.path])).code).toBe(3);
  });

  it('inspects known_hosts files with --format known_hosts', async () => {
    await writeFile(file('kh'), `host.example ${KEYS.get('ed')!}\nbad line\n`);
    const result = await psm(['keys', 'inspect', '--format', 'known_hosts', file('kh'), '--json']);
    expect(result.code).toBe(1);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows[0]).toMatchObject({ line: 1, kind: 'entry', hosts: 'host.example', key: { bits: 256 } });
    expect(rows[1]).toMatchObject({ line: 2, kind: 'invalid' });
  });

  it('has help with examples', async () => {
    const help = await psm(['keys', 'inspect', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
  });

  it('runs as a real process from bin/psm.js with stdin', async () => {
    if (!existsSync('dist/cli/main.js')) throw new Error('run npm run build first (npm test does)');
    const outcome = await runProgram(process.execPath, ['bin/psm.js', 'keys', 'inspect', '--json', '-'], {
      timeoutMs: 30_000,
      input: Buffer.from(await readFile(file('ak'))),
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stdout.toString().trim().split('\n')).toHaveLength(5);
  });
});

/**
 * `psm known-hosts match|hash` end to end through the real CLI entry point (in-process main()),
 * on real files in a temp dir, with the real ssh-keygen reading what psm wrote.
 */
import { chmod, chown, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { loadKnownHostsTestKeys, testKey } from '../helpers/known-hosts-keys.js';
import { runPsmInProcess, type PsmRun } from '../helpers/run-psm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const keys = loadKnownHostsTestKeys();
const ED_A = testKey(keys, 'ED_A').text;
const ED_B = testKey(keys, 'ED_B').text;

function psm(...args: string[]): Promise<PsmRun> {
  return runPsmInProcess(args);
}

describe('psm known-hosts', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const file = (name: string): string => join(dir.path, name);
  beforeAll(async () => {
    dir = await makeTempDir('kh-cli');
    await writeFile(file('a.pub'), `${ED_A} someone@example\n`);
    await writeFile(file('b.pub'), `${ED_B}\n`);
  });
  afterEach(() => {
    process.exitCode = undefined;
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('match: exit 0 when lines apply, 1 when none, with the JSON report', async () => {
    await writeFile(
      file('kh'),
      `# hosts\nweb.example,[web.example]:2222 ${ED_A}\n@revoked web.example ${ED_B}\n`,
    );
    const found = await psm('known-hosts', 'match', 'Web.Example', file('kh'), '--json');
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toEqual({
      host: 'web.example',
      port: 22,
      lookupName: 'web.example',
      matches: [
        {
          line: 2,
          marker: null,
          hashed: false,
          type: 'ssh-ed25519',
          fingerprint: testKey(keys, 'ED_A').key.fingerprint,
        },
        {
          line: 3,
          marker: 'revoked',
          hashed: false,
          type: 'ssh-ed25519',
          fingerprint: testKey(keys, 'ED_B').key.fingerprint,
        },
      ],
      verdict: null,
      verdictLine: null,
      certificateProblem: null,
    });
    const ported = await psm('known-hosts', 'match', 'web.example:2222', file('kh'));
    expect(ported.code).toBe(0);
    expect(ported.stdout).toContain('looked up as [web.example]:2222');
    expect((await psm('known-hosts', 'match', 'other.example', file('kh'))).code).toBe(1);
  });

  it('match --key: trusted 0, revoked 1, changed 1, unknown 1', async () => {
    await writeFile(file('kh2'), `web.example ${ED_A}\n@revoked web.example ${ED_B}\nold.example ${ED_B}\n`);
    const verdict = async (host: string, key: string): Promise<[number, string]> => {
      const r = await psm('known-hosts', 'match', host, file('kh2'), '--key', file(key), '--json');
      return [r.code, JSON.parse(r.stdout).verdict];
    };
    expect(await verdict('web.example', 'a.pub')).toEqual([0, 'trusted']);
    expect(await verdict('web.example', 'b.pub')).toEqual([1, 'revoked']);
    expect(await verdict('old.example', 'a.pub')).toEqual([1, 'changed']);
    expect(await verdict('new.example', 'a.pub')).toEqual([1, 'unknown']);
    const text = await psm('known-hosts', 'match', 'web.example', file('kh2'), '--key', file('a.pub'));
    expect(text.stdout).toContain('verdict: trusted (line 1)');
  });

  it('match refuses usage errors (2) and files it cannot read completely (3)', async () => {
    await writeFile(file('bad'), `web.example ${ED_A}\n@revoked\n`);
    const invalid = await psm('known-hosts', 'match', 'web.example', file('bad'), '--json');
    expect(invalid.code).toBe(3);
    expect(JSON.parse(invalid.stdout).error.code).toBe('FILE_HAS_INVALID_LINES');
    expect(invalid.stderr).toMatch(/psm: FILE_HAS_INVALID_LINES: .*:2: BAD_MARKER/);
    expect((await psm('known-hosts', 'match', 'a b', file('kh'))).code).toBe(2);
    expect((await psm('known-hosts', 'match', 'web.example:0', file('kh'))).code).toBe(2);
    expect((await psm('known-hosts', 'match', 'web.example', file('missing'))).code).toBe(3);
    expect((await psm('known-hosts', 'match', 'web.example', file('kh'), '--key', file('kh'))).code).toBe(3);
    expect((await psm('known-hosts', 'match')).code).toBe(2);
  });

  it('hash: rewrites in place, keeps mode and comments, ssh-keygen -F finds every host', async () => {
    const path = file('to-hash');
    const original = `# keep me\n\none.example,Two.Example ${ED_A} c1\n[three.example]:2222 ${ED_B}\n*.wild ${ED_B}\n`;
    await writeFile(path, original);
    await chmod(path, 0o640);
    const result = await psm('known-hosts', 'hash', path, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      file: path,
      rewritten: true,
      hashedNames: 3,
      keptUnhashed: 1,
      alreadyHashed: 0,
    });
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    const text = await readFile(path, 'utf8');
    expect(text.startsWith('# keep me\n\n|1|')).toBe(true);
    expect(text).toContain(`*.wild ${ED_B}\n`);
    expect(text).not.toMatch(/one\.example|two\.example|three\.example/i);
    for (const [name, line] of [
      ['one.example', 3],
      ['two.example', 4],
      ['[three.example]:2222', 5],
    ] as const) {
      const found = await runProgram('ssh-keygen', ['-F', name, '-f', path], { timeoutMs: 30_000 });
      expect(found.stdout.toString(), name).toContain(`found: line ${line}`);
    }
    expect((await readdir(dir.path)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const again = await psm('known-hosts', 'hash', path, '--json');
    expect(JSON.parse(again.stdout).rewritten).toBe(false);
    expect(await readFile(path, 'utf8')).toBe(text);
  });

  it('hash as root keeps the owner of a user file, never showing it as root-owned', async () => {
    const path = file('owned-hash');
    await writeFile(path, `owned.example ${ED_A}\n`);
    await chown(path, 4242, 4343);
    expect((await psm('known-hosts', 'hash', path)).code).toBe(0);
    const after = await stat(path);
    expect([after.uid, after.gid]).toEqual([4242, 4343]);
    expect(await readFile(path, 'utf8')).toMatch(/^\|1\|/);
  });

  it('hash: an invalid file is left byte for byte as it was (3); a symlink is refused (4)', async () => {
    const path = file('invalid-hash');
    const original = `good.example ${ED_A}\nbad,,list.example ${ED_B}\n`;
    await writeFile(path, original);
    const result = await psm('known-hosts', 'hash', path);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('FILE_HAS_INVALID_LINES');
    expect(await readFile(path, 'utf8')).toBe(original);
    expect((await readdir(dir.path)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await writeFile(file('real'), `good.example ${ED_A}\n`);
    await symlink(file('real'), file('link'));
    expect((await psm('known-hosts', 'hash', file('link'))).code).toBe(4);
    expect(await readFile(file('real'), 'utf8')).toBe(`good.example ${ED_A}\n`);
  });

  it('--help shows examples and the exit codes', async () => {
    for (const sub of ['match', 'hash']) {
      const help = await psm('known-hosts', sub, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain('Exit codes');
    }
  });
});

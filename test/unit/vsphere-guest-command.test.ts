import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programArguments, shellQuote } from '../../src/guest-ops/vsphere/guest-exec.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// vSphere's StartProgramInGuest takes one argument string that VMware Tools hand to the guest's
// /bin/sh as `"PATH" ARGUMENTS`. The command line psm builds must give the program exactly its
// argv under any POSIX shell: run it here under dash (Debian's /bin/sh) and busybox sh, as
// Tools would, and compare what the program saw.
const HOSTILE = [
  'a b',
  `"double" 'single'`,
  "it's",
  "'",
  "''",
  'x; echo injected',
  '$(echo injected)',
  '`echo injected`',
  'one\ntwo',
  '',
  '*',
  '$HOME',
  '\\n%s',
  '-c',
  '&& rm -rf /',
  'tab\there',
  '"$@"',
  '$0',
  'ünïcödé',
];

let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  dir = await makeTempDir('guest-cmd');
});
afterAll(() => dir?.remove());

describe('the StartProgramInGuest command line', () => {
  it('quotes a word so that the shell reads it back unchanged', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe(`''`);
  });

  for (const shell of [['/bin/sh'], ['/usr/bin/busybox', 'sh']])
    it(`passes hostile argv verbatim and captures output under ${shell.join(' ')}`, () => {
      const files = { stdout: join(dir.path, 'out'), stderr: join(dir.path, 'err') };
      const args = programArguments('/usr/bin/printf', ['<%s>\\n', ...HOSTILE], files);
      // What Tools run: "PROGRAM" ARGUMENTS through the guest shell (programPath is /bin/sh).
      execFileSync(shell[0]!, [...shell.slice(1), '-c', `"${shell.join('" "')}" ${args}`], {
        timeout: 10_000,
        env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' },
      });
      expect(readFileSync(files.stdout, 'utf8')).toBe(HOSTILE.map((a) => `<${a}>\n`).join(''));
      expect(readFileSync(files.stderr, 'utf8')).toBe('');
      // The output files were made while the umask was 077.
      expect(statSync(files.stdout).mode & 0o777).toBe(0o600);
      expect(statSync(files.stderr).mode & 0o777).toBe(0o600);
    });
});

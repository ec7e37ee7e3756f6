/**
 * Where psm's options end and the guest program's argv begins in `psm vm exec` (the real CLI,
 * in process; the worker does not exist, so every run stops at WORKER_NOT_FOUND after parsing).
 * test/e2e/guest-ops-cli.test.ts runs the same shapes against a real guest.
 */
import { Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { programArgumentsStart } from '../../src/cli/vm-exec.js';
import { runPsmInProcess } from '../helpers/run-psm.js';

const OPTIONS = [
  new Option('--vm-dir <dir>'),
  new Option('--timeout <seconds>'),
  new Option('--json'),
  new Option('--stdin'),
  new Option('--env <entry...>'),
];

describe('psm vm exec arguments', () => {
  it.each([
    [['w1', '/bin/uname', '-a'], 2],
    [['w1', '--json', '/bin/uname', '-a', '--json'], 3],
    [['--vm-dir', '/d', 'w1', '--timeout', '5', '/bin/ls', '-la'], 6],
    [['w1', '--vm-dir=/d', '/bin/ls', '--vm-dir', 'x'], 3],
    [['w1', '--env', 'A=1', 'B=2', '--json', '/bin/env', '-0'], 6],
    [['w1', '--', '/bin/ls', '-la'], undefined],
    [['w1', '/bin/true'], undefined],
    [['w1'], undefined],
  ] as const)('%j: the program argv starts at %s', (argv, start) => {
    expect(programArgumentsStart([...argv], OPTIONS)).toBe(start);
  });

  it('hands options after PATH to the program instead of reading them as psm options', async () => {
    const vmDir = '/nonexistent/psm-vm-exec-args';
    for (const args of [
      ['w1', '--vm-dir', vmDir, '--json', '/bin/uname', '-a'],
      ['w1', '--vm-dir', vmDir, '--json', '/bin/ls', '--help', '-V', '--vm-dir', '/elsewhere'],
      ['w1', '--vm-dir', vmDir, '--json', '--', '/bin/true'],
    ]) {
      const run = await runPsmInProcess(['vm', 'exec', ...args]);
      expect(run.code, run.stderr).toBe(3);
      expect(JSON.parse(run.stdout)).toMatchObject({
        error: { code: 'WORKER_NOT_FOUND', message: `no such worker (${vmDir}/w1/vm.json)` },
      });
    }
  });

  it('still refuses an unknown psm option before PATH', async () => {
    const run = await runPsmInProcess(['vm', 'exec', 'w1', '--bogus', '/bin/true', '-a']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--bogus'");
  });
});

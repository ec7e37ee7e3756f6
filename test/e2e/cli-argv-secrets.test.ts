/**
 * Issue 9, defect 7: an unknown option whose text holds `=value` is reported by name only, so a
 * secret typed as `--password=hunter2` is never echoed.
 */
import { describe, expect, it } from 'vitest';
import { optionName } from '../../src/cli/main.js';
import { runPsmInProcess } from '../helpers/run-psm.js';

describe('unknown options', () => {
  it.each([
    [['vault', 'set', 'secrets.x', '--password=hunter2'], "unknown option '--password'"],
    [['init', '--passphrase=hunter2'], "unknown option '--passphrase'"],
    [['init', '--location', '/nonexistent/x', '--pass=hunter2', '--json'], "unknown option '--pass'"],
    [['keys', 'inspect', '-phunter2'], "unknown option '-p'"],
    [['--token=hunter2'], "unknown option '--token'"],
  ])('psm %j names the option, never its value', async (args, expected) => {
    const run = await runPsmInProcess(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(expected);
    expect(`${run.stdout}${run.stderr}`).not.toContain('hunter2');
  });

  it('keeps option names as they are', () => {
    expect(optionName('--location')).toBe('--location');
    expect(optionName('--a=b=c')).toBe('--a');
    expect(optionName('-x')).toBe('-x');
    expect(optionName('-xyz')).toBe('-x');
  });
});

/**
 * What psm itself refuses before `psm run-main` logs in (a name that is not one file in the
 * objects directory, a word the gate would split or drop), and the exact command the gate gets.
 */
import { describe, expect, it } from 'vitest';
import { GATE_MAX_COMMAND_LENGTH } from '../../src/psm/gate/index.js';
import { MAX_OBJECT_NAME_LENGTH, MAX_RUN_ARGS, parseRunMainRequest } from '../../src/psm/run-main/index.js';

describe('parseRunMainRequest', () => {
  it('builds "popcobjrun PATH ARGS..." with the object under /usr/local/popc/objects', () => {
    const parsed = parseRunMainRequest('hello', ['a', 'b=c', '-v']);
    expect(parsed).toEqual({
      ok: true,
      value: {
        object: 'hello',
        args: ['a', 'b=c', '-v'],
        objectPath: '/usr/local/popc/objects/hello',
        command: 'popcobjrun /usr/local/popc/objects/hello a b=c -v',
      },
    });
    expect(parseRunMainRequest('hello', [])).toMatchObject({
      ok: true,
      value: { command: 'popcobjrun /usr/local/popc/objects/hello' },
    });
  });

  it.each([
    ['', 'empty'],
    ['../bin/sh', 'a path'],
    ['a/b', 'a path'],
    ['.', 'the directory'],
    ['..', 'the parent'],
    ['he llo', 'a space'],
    ['he\tllo', 'a tab'],
    ['he\nllo', 'a newline'],
    ['he\u0007llo', 'a control character'],
    ['x'.repeat(MAX_OBJECT_NAME_LENGTH + 1), 'too long'],
  ])('refuses OBJECT %j (%s) with RUN_BAD_OBJECT', (object) => {
    const parsed = parseRunMainRequest(object, []);
    expect(parsed.ok ? null : parsed.error.code).toBe('RUN_BAD_OBJECT');
  });

  it('leaves characters to the gate: a hidden name or shell characters pass psm and reach the gate', () => {
    expect(parseRunMainRequest('.hidden', []).ok).toBe(true);
    expect(parseRunMainRequest('he;llo', ['$(id)']).ok).toBe(true);
  });

  it.each([
    [[''], 'an empty argument would vanish'],
    [['a b'], 'a space would make two arguments'],
    [['a\nb'], 'a newline'],
    [['\u0085'], 'a C1 control (NEL)'],
    [Array.from({ length: MAX_RUN_ARGS + 1 }, () => 'a'), 'too many'],
    [['x'.repeat(GATE_MAX_COMMAND_LENGTH)], 'longer than the gate reads'],
  ])('refuses arguments %# (%s) with RUN_BAD_ARGUMENT', (args) => {
    const parsed = parseRunMainRequest('hello', args);
    expect(parsed.ok ? null : parsed.error.code).toBe('RUN_BAD_ARGUMENT');
  });

  it('accepts exactly MAX_RUN_ARGS arguments and a command of exactly the gate limit', () => {
    expect(
      parseRunMainRequest(
        'hello',
        Array.from({ length: MAX_RUN_ARGS }, () => 'a'),
      ).ok,
    ).toBe(true);
    const prefix = 'popcobjrun /usr/local/popc/objects/hello '.length;
    expect(parseRunMainRequest('hello', ['x'.repeat(GATE_MAX_COMMAND_LENGTH - prefix)]).ok).toBe(true);
  });
});

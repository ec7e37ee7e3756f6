import { describe, expect, it } from 'vitest';
import {
  checkArgv,
  checkEnv,
  checkGuestPath,
  checkMode,
  checkOwnerId,
} from '../../src/guest-ops/qga/guest-input.js';
import { parseStatLine } from '../../src/guest-ops/qga/files.js';
import { decodeBase64 } from '../../src/guest-ops/wire/untrusted-json.js';

describe('what psm sends into a guest', () => {
  it('accepts absolute, normalised guest paths only', () => {
    for (const good of ['/', '/persist/x', '/home/popc/.ssh/authorized_keys', '/a b/c'])
      expect(checkGuestPath(good, 'p').ok).toBe(true);
    for (const bad of [
      '',
      'relative',
      '/a/../b',
      '/a/./b',
      '/a//b',
      '/a/',
      '/a\nb',
      '/a\u0000b',
      `/${'x'.repeat(4096)}`,
    ])
      expect(checkGuestPath(bad, 'p').ok).toBe(false);
  });

  it('lets every argument through verbatim except NUL', () => {
    expect(checkArgv(['a b', '$(x)', '`y`', ';', 'l1\nl2', '', '\'"']).ok).toBe(true);
    expect(checkArgv(['a\u0000b']).ok).toBe(false);
    expect(checkArgv(Array.from({ length: 5000 }, () => 'x')).ok).toBe(false);
    expect(checkArgv(['x'.repeat(1024 * 1024 + 1)]).ok).toBe(false);
  });

  it('requires NAME=value environment entries', () => {
    expect(checkEnv(['PATH=/bin', 'EMPTY=', '_X1=a=b']).ok).toBe(true);
    for (const bad of ['=x', '1A=x', 'NOEQUALS', 'A B=x', 'A=\u0000']) expect(checkEnv([bad]).ok).toBe(false);
  });

  it('turns modes into chmod octal and bounds owner ids', () => {
    expect(checkMode(0o600)).toEqual({ ok: true, value: '0600' });
    expect(checkMode(0o4755)).toEqual({ ok: true, value: '4755' });
    for (const bad of [-1, 0o10000, 1.5, Number.NaN]) expect(checkMode(bad).ok).toBe(false);
    expect(checkOwnerId(1000, 'uid').ok).toBe(true);
    for (const bad of [-1, 4294967295, 0.5]) expect(checkOwnerId(bad, 'uid').ok).toBe(false);
  });

  it('parses stat -c "%f %u %g %s" strictly', () => {
    expect(parseStatLine('81a4 1000 1000 12\n')).toEqual({
      ok: true,
      value: { rawMode: 0o100644, owner: { uid: 1000, gid: 1000 }, size: 12 },
    });
    for (const bad of [
      '81a4 1000 1000 12',
      '81a4 1000 1000\n',
      'zz 0 0 0\n',
      '81a4 -1 0 0\n',
      '81a4 0 0 0\nextra\n',
    ])
      expect(parseStatLine(bad).ok).toBe(false);
  });

  it('accepts canonical base64 only, within the limit', () => {
    expect(decodeBase64('', 10)).toEqual({ ok: true, value: Buffer.alloc(0) });
    expect(decodeBase64('YWJj', 3).ok).toBe(true);
    for (const bad of ['YWJ', 'YW=j', 'YWJj\n', 'eB==', 'YW Jj', 'YWJj===='])
      expect(decodeBase64(bad, 100).ok).toBe(false);
    expect(decodeBase64('YWJjZA==', 3).ok).toBe(false);
  });
});

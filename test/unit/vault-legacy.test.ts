import { describe, expect, it } from 'vitest';
import { parseLegacy } from '../../src/vault/legacy.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

describe('parseLegacy (2010 virtual.conf)', () => {
  it('reads the VirtualJobMgr keys, passwords as bytes', () => {
    const parsed = parseLegacy(
      bytes(
        [
          '# written by popc_setup',
          'popc_esx_uri esx://192.168.1.10/?no_verify=1',
          'popc_esx_username root',
          'popc_esx_password pass word with spaces  ',
          'popc_maxvm 8',
          'popc_num_clone -1',
          'popc_worker_name popc_worker1',
          'popc_hostuser popc',
          'popc_hostpass = gpw',
          'popc_snapshot clean',
        ].join('\r\n'),
      ),
      'old.conf',
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toMatchObject({
      uri: 'esx://192.168.1.10/?no_verify=1',
      username: 'root',
      maxVms: 8,
      numClone: -1,
    });
    expect(Buffer.from(parsed.value.password!).toString()).toBe('pass word with spaces  ');
    expect(Buffer.from(parsed.value.hostPass!).toString()).toBe('gpw');
    expect(parsed.value.warnings.join(' ')).toContain('no_verify=1');
    expect(parsed.value.warnings.join(' ')).not.toContain('pass word');
  });

  it.each([
    ['an unknown key', 'popc_esx_uri u\npopc_esx_username r\npopc_esx_colour blue\n', 3],
    ['a duplicate key', 'popc_esx_uri u\npopc_esx_uri v\n', 2],
    ['a key without value', 'popc_esx_uri u\npopc_esx_username\n', 2],
    ['a non-number max', 'popc_esx_uri u\npopc_esx_username r\npopc_esx_maxvm lots\n', 3],
    ['binary (the AES-encrypted form)', '\u0001\u0002\u0003binary', 1],
  ])('refuses %s with its line', (_name, text, line) => {
    const parsed = parseLegacy(bytes(text), 'old.conf');
    expect(parsed.ok ? 'ok' : `${parsed.error.code}:${parsed.error.line}`).toBe(`LEGACY_INVALID:${line}`);
  });

  it('never puts a password into an error message', () => {
    const parsed = parseLegacy(
      bytes('popc_esx_password topsecret\npopc_esx_password topsecret2\n'),
      'old.conf',
    );
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).not.toContain('topsecret');
  });
});

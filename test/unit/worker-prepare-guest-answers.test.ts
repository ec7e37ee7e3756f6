import { describe, expect, it } from 'vitest';
import { identityFindArgv, parseIdentityListing } from '../../src/psm/worker-prepare/identity-files.js';
import { WORKER_IMAGE_LAYOUT as layout } from '../../src/psm/worker-prepare/guest-layout.js';

// What the guest's `find` answers is untrusted: only paths psm asked for, in the directories it
// named, are ever acted on; anything odd is GUEST_ANSWER_INVALID and nothing is removed.
const answer = (paths: string[], extra: Partial<Parameters<typeof parseIdentityListing>[0]> = {}) => ({
  exitCode: 0,
  stdout: Buffer.from(paths.map((p) => `${p}\0`).join(''), 'latin1'),
  stderr: new Uint8Array(0),
  truncated: false,
  ...extra,
});

describe('the identity survey', () => {
  it('asks find for direct children with the names psm resets, NUL-separated', () => {
    const argv = identityFindArgv(layout);
    expect(argv.slice(0, argv.indexOf('-mindepth'))).toEqual(
      expect.arrayContaining(['/etc/ssh', '/persist/etc/ssh', '/etc', '/var/lib/dhcp']),
    );
    expect(argv).toEqual(expect.arrayContaining(['-maxdepth', '1', '-print0', 'ssh_host_*', '.psm-copy-*']));
  });

  it('sorts what it finds into host keys, machine-id, leases, stale copies and psm config', () => {
    const parsed = parseIdentityListing(
      answer([
        '/etc/ssh/ssh_host_rsa_key',
        '/etc/ssh/ssh_host_rsa_key.pub',
        '/persist/etc/ssh/ssh_host_ed25519_key',
        '/persist/etc/ssh/psm_host_ed25519_key-0123456789ab',
        '/persist/etc/ssh/.psm-copy-0123456789abcdef',
        '/persist/etc/ssh/sshd_config.psm',
        '/etc/machine-id',
        '/var/lib/dbus/machine-id',
        '/var/lib/dhcp/dhclient.eth0.leases',
        // Not asked for in that place: left alone.
        '/etc/ssh_host_decoy',
        '/var/lib/dhcp/ssh_host_x',
      ]),
      layout,
    );
    expect(parsed).toEqual({
      ok: true,
      value: {
        hostKeys: [
          '/etc/ssh/ssh_host_rsa_key',
          '/etc/ssh/ssh_host_rsa_key.pub',
          '/persist/etc/ssh/ssh_host_ed25519_key',
          '/persist/etc/ssh/psm_host_ed25519_key-0123456789ab',
        ],
        machineIds: ['/etc/machine-id', '/var/lib/dbus/machine-id'],
        leases: ['/var/lib/dhcp/dhclient.eth0.leases'],
        staleCopies: ['/persist/etc/ssh/.psm-copy-0123456789abcdef'],
        psmConfig: true,
      },
    });
  });

  it('accepts find exit 1 only when every complaint is a missing directory psm named', () => {
    const missing = Buffer.from(
      "find: '/var/lib/dhcpcd': No such file or directory\nfind: /var/lib/udhcpc: No such file or directory\n",
    );
    expect(parseIdentityListing(answer([], { exitCode: 1, stderr: missing }), layout).ok).toBe(true);
    const other = Buffer.from('find: /etc/ssh: Permission denied\n');
    expect(parseIdentityListing(answer([], { exitCode: 1, stderr: other }), layout)).toMatchObject({
      ok: false,
      error: { code: 'GUEST_ANSWER_INVALID' },
    });
    const elsewhere = Buffer.from('find: /root: No such file or directory\n');
    expect(parseIdentityListing(answer([], { exitCode: 1, stderr: elsewhere }), layout).ok).toBe(false);
  });

  it.each([
    ['a relative path', ['etc/ssh/ssh_host_rsa_key']],
    ['a path with ..', ['/etc/ssh/../shadow/ssh_host_x']],
    ['a newline in a name', ['/etc/ssh/ssh_host_x\n/etc/shadow']],
    ['a space in a name', ['/etc/ssh/ssh_host_ key']],
    ['too many files', Array.from({ length: 300 }, (_, i) => `/etc/ssh/ssh_host_${i}`)],
  ])('refuses %s', (_what, paths) => {
    expect(parseIdentityListing(answer(paths), layout)).toMatchObject({
      ok: false,
      error: { code: 'GUEST_ANSWER_INVALID' },
    });
  });

  it('refuses an answer the agent cut short', () => {
    expect(parseIdentityListing(answer(['/etc/machine-id'], { truncated: true }), layout).ok).toBe(false);
  });
});

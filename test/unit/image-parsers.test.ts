/**
 * The small parsers of host-program output the image build relies on: each fails closed on
 * output it does not understand. The outputs are real ones from Debian 12 (and the same programs
 * run for real in the image build and boot tests).
 */
import { describe, expect, it } from 'vitest';
import { parseRpcList } from '../../src/guest-ops/image/inputs.js';
import { parseAppletList } from '../../src/guest-ops/image/initramfs.js';
import { parseShowDepends } from '../../src/guest-ops/image/kernel-modules.js';
import { parseKernelMetapackage } from '../../src/guest-ops/image/kernel-package.js';
import { parseLddOutput } from '../../src/guest-ops/image/shared-libraries.js';

describe('ldd output', () => {
  it('lists resolved libraries and the loader, skipping the vDSO', () => {
    const text =
      '\tlinux-vdso.so.1 (0x00007ffd)\n' +
      '\tlibcrypto.so.3 => /lib/x86_64-linux-gnu/libcrypto.so.3 (0x00007f8d92c00000)\n' +
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f8d93091000)\n' +
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f8d93358000)\n';
    expect(parseLddOutput(text)).toEqual({
      ok: true,
      value: [
        '/lib/x86_64-linux-gnu/libcrypto.so.3',
        '/lib/x86_64-linux-gnu/libc.so.6',
        '/lib64/ld-linux-x86-64.so.2',
      ],
    });
  });

  it('a missing library or an unknown line is an error with its line number', () => {
    const missing = parseLddOutput('\tlibc.so.6 => /lib/libc.so.6 (0x1)\n\tlibfoo.so.1 => not found\n');
    expect(!missing.ok && [missing.error.code, missing.error.line, missing.error.message]).toEqual([
      'IMAGE_TOOL_FAILED',
      2,
      expect.stringContaining('missing'),
    ]);
    expect(parseLddOutput('\tlibc.so.6 => relative/libc.so.6 (0x1)\n').ok).toBe(false);
  });
});

describe('modprobe --show-depends output', () => {
  it('keeps insmod lines in order and skips built-ins', () => {
    const text =
      'insmod /r/lib/modules/6.1.0-56-amd64/kernel/drivers/virtio/virtio_ring.ko \n' +
      'builtin crc32c\n' +
      'insmod /r/lib/modules/6.1.0-56-amd64/kernel/fs/ext4/ext4.ko \n';
    expect(parseShowDepends(text)).toEqual({
      ok: true,
      value: [
        '/r/lib/modules/6.1.0-56-amd64/kernel/drivers/virtio/virtio_ring.ko',
        '/r/lib/modules/6.1.0-56-amd64/kernel/fs/ext4/ext4.ko',
      ],
    });
  });

  it('compressed modules and unknown lines fail closed', () => {
    expect(parseShowDepends('insmod /r/lib/modules/x/kernel/a.ko.xz \n').ok).toBe(false);
    expect(parseShowDepends('install /sbin/something\n').ok).toBe(false);
  });
});

describe('apt-cache show linux-image-amd64', () => {
  it('finds the one pinned kernel package', () => {
    const text =
      'Package: linux-image-amd64\nVersion: 6.1.192-2\nDepends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)\n';
    expect(parseKernelMetapackage(text)).toEqual({
      ok: true,
      value: {
        name: 'linux-image-6.1.0-56-amd64',
        kernelVersion: '6.1.0-56-amd64',
        packageVersion: '6.1.192-2',
      },
    });
  });

  it('no kernel, two kernels or an unpinned one is refused', () => {
    for (const depends of [
      'Depends: foo (= 1)',
      'Depends: linux-image-6.1.0-56-amd64 (= 1), linux-image-6.1.0-57-amd64 (= 2)',
      'Depends: linux-image-6.1.0-56-amd64',
      'Depends: linux-image-6.1.0-56-amd64 (>= 6.1)',
    ]) {
      const parsed = parseKernelMetapackage(`Package: linux-image-amd64\n${depends}\n`);
      expect(!parsed.ok && parsed.error.code).toBe('IMAGE_KERNEL_UNAVAILABLE');
    }
  });
});

describe('qemu-ga --block-rpcs help and busybox --list-full', () => {
  it('RPC names only', () => {
    expect(parseRpcList('guest-sync-delimited guest-sync guest-ping\nguest-exec\n')).toEqual([
      'guest-sync-delimited',
      'guest-sync',
      'guest-ping',
      'guest-exec',
    ]);
    expect(parseRpcList('')).toBeUndefined();
    expect(parseRpcList('guest-ping; rm -rf /')).toBeUndefined();
  });

  it('applet paths under bin and sbin; linuxrc dropped; anything else refused', () => {
    expect(parseAppletList('bin/sh\nlinuxrc\nsbin/udhcpc\nusr/bin/[\nusr/bin/[[\n')).toEqual([
      'bin/sh',
      'sbin/udhcpc',
      'usr/bin/[',
      'usr/bin/[[',
    ]);
    expect(parseAppletList('bin/sh\n../etc/passwd\n')).toBeUndefined();
    expect(parseAppletList('/bin/sh\n')).toBeUndefined();
  });
});
